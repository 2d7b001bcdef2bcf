/**
 * Adding 1, 16 and 128 agents to a space at once: the
 * time until every `add` resolved, and the RSS each agent costs; as ratios
 * to starting as many bare workers (the `spawn` baseline).
 */
import { runProbe } from "../lib/probe.js";
import type { Scenario } from "../lib/scenario.js";
import { spaceKinds } from "../lib/spaces.js";
import { probe as spawnProbe, type ProbeResult } from "./spawn.js";

/** Adds `count` agents at once to a fresh space `key` in a fresh node process (see probes/add-agents.ts). */
function probe(key: string, count: number, mode = ""): Promise<ProbeResult & { prewarmMs?: number }> {
  return runProbe<ProbeResult & { prewarmMs?: number }>("add-agents", [key, String(count), mode], `adding ${count} agents to ${key} ${mode}`);
}

async function sequentially<T>(steps: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = [];
  for (const step of steps) results.push(await step());
  return results;
}

export const spaceAdd: Scenario = {
  name: "add",
  group: "spaces",
  description: "adding N agents at once to a space: time until every add resolved, and RSS per agent",
  async run(ctx) {
    // The same counts as the spawn baseline.
    const counts = ctx.quick ? [1, 8] : [1, 16, 128];
    const largest = counts.at(-1)!;
    // Declared first, so that a run that fails part-way still prints each verdict (or "not measured").
    ctx.target({ figure: "multiprocess-time-128", of: "median", atMost: 5_000,
      text: "MultiprocessSpace: add of 128 agents < 5,000 ms" });
    ctx.target({ figure: `multiprocess-time-${largest}`, of: "ratio", atMost: 1.25,
      text: `MultiprocessSpace: add of ${largest} agents at once ≤ 1.25× starting ${largest} bare workers at once` });
    ctx.target({ figure: `multiprocess-rss-${largest}`, of: "ratio", atMost: 1.15,
      text: `MultiprocessSpace: RSS per agent ≤ 1.15× a bare worker's (${largest} agents)` });
    ctx.target({ figure: `multiprocess-rss-${largest}`, of: "median", atMost: 15,
      text: `MultiprocessSpace: RSS per agent < 15 MB (${largest} agents)` });
    const kinds = await spaceKinds(ctx);
    const inWorkers = kinds.some((kind) => kind.inWorkers);
    for (const count of counts) {
      // One run: bare workers (when a space runs agents in workers), then each space; repeated, so that
      // every figure of one count sees the same background load.
      const runs = await ctx.repeat(`${count} agent(s)`, async () => ({
        raw: inWorkers ? await spawnProbe(count) : undefined,
        spaces: await sequentially(kinds.map((kind) => () => probe(kind.key, count))),
        prewarmed: kinds.some((kind) => kind.key === "multiprocess") ? await probe("multiprocess", count, "prewarm") : undefined,
      }));
      const rawKey = (what: string) => `raw-${what}-${count}`;
      if (inWorkers) {
        ctx.record({ key: rawKey("time"), label: `raw: start ${count} bare worker(s): time until all run (spawn)`, unit: "ms" },
          runs.map((run) => run.raw!.ms));
        ctx.record({ key: rawKey("rss"), label: `raw: start ${count} bare worker(s): RSS per worker (spawn)`, unit: "MB" },
          runs.map((run) => run.raw!.rssDeltaBytes / count / 1e6));
      }
      kinds.forEach((kind, i) => {
        const vs = (what: string) => (kind.inWorkers ? { vs: rawKey(what) } : {});
        ctx.record({ key: `${kind.key}-time-${count}`, label: `${kind.name}: add ${count}: time until all run`, unit: "ms",
                     ...vs("time") }, runs.map((run) => run.spaces[i]!.ms));
        ctx.record({ key: `${kind.key}-rss-${count}`, label: `${kind.name}: add ${count}: RSS per agent`, unit: "MB",
                     ...vs("rss") }, runs.map((run) => run.spaces[i]!.rssDeltaBytes / count / 1e6));
      });
      if (runs[0]?.prewarmed) {
        ctx.record({ key: `multiprocess-prewarm-${count}`, label: `MultiprocessSpace: prewarm(${count}): time until its threads run`, unit: "ms",
                     vs: rawKey("time") }, runs.map((run) => run.prewarmed!.prewarmMs!));
        ctx.record({ key: `multiprocess-prewarmed-time-${count}`, label: `MultiprocessSpace: add ${count} after prewarm(${count}): time until all run`,
                     unit: "ms", vs: rawKey("time") }, runs.map((run) => run.prewarmed!.ms));
        ctx.record({ key: `multiprocess-prewarmed-rss-${count}`, label: `MultiprocessSpace: prewarm(${count}) and add ${count}: RSS per agent`,
                     unit: "MB", vs: rawKey("rss") }, runs.map((run) => run.prewarmed!.rssDeltaBytes / count / 1e6));
      }
    }
    ctx.note(
      "each run is a fresh node process under tsx's loader (as npm run bench runs) that adds the agents at once; " +
        "time includes the bundle-cache check; RSS is the process's growth, main thread included; " +
        "raw: as many bare workers started in a fresh process (the spawn baseline), measured in the same runs",
    );
  },
};
