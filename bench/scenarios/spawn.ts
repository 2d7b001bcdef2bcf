/**
 * What a worker thread costs to start: the figure that decides how many
 * agents a worker-per-agent space can hold.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { withDeadline } from "../lib/deadline.js";
import type { Scenario } from "../lib/scenario.js";
import { workerUrl } from "../lib/workers.js";

const run = promisify(execFile);

export interface ProbeResult {
  ms: number;
  rssDeltaBytes: number;
}

/** 128 workers take seconds on this machine; a minute means something is wrong. */
const PROBE_DEADLINE_MS = 60_000;

/**
 * Starts `count` workers at once in a fresh node process (no tsx loader; see
 * spawn-probe.mjs), and reads what that process measured.
 */
export async function probe(count: number): Promise<ProbeResult> {
  const script = fileURLToPath(workerUrl("spawn-probe.mjs"));
  const { stdout } = await withDeadline(run(process.execPath, [script, String(count)]), PROBE_DEADLINE_MS,
    `starting ${count} workers`);
  return JSON.parse(stdout) as ProbeResult;
}

export const spawn: Scenario = {
  name: "spawn",
  group: "baselines",
  description: "starting N small workers at once: time until all run, and the process's RSS growth per worker",
  async run(ctx) {
    const counts = ctx.quick ? [1, 8] : [1, 16, 128];
    for (const count of counts) {
      const results = await ctx.repeat(`${count} worker(s)`, () => probe(count));
      ctx.record({ key: `time-${count}`, label: `${count} worker(s): time until all run`, unit: "ms" },
        results.map((r) => r.ms));
      ctx.record({ key: `rss-${count}`, label: `${count} worker(s): RSS per worker`, unit: "MB" },
        results.map((r) => r.rssDeltaBytes / count / 1e6));
    }
    ctx.note("each run is a fresh node process (no TypeScript loader) that starts the workers at once");
  },
};
