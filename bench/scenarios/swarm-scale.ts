/**
 * Issue 7's swarm scale: 1,000 and 10,000 agents spread over one thread per
 * core (`threads: "auto"`): time and memory to add them, tokens passed round
 * a ring through all of them, and a broadcast to all; the ring also on a
 * single worker thread, the throughput it is compared with.
 */
import { runProbe } from "../lib/probe.js";
import type { Scenario } from "../lib/scenario.js";

interface SwarmRun {
  addMs: number;
  rssMb: number;
  ringMs: number;
  hopsPerS: number;
  broadcastMs: number;
}

/** Tokens travel at once, so the ring measures throughput rather than one hop's latency. */
const TOKENS = 16;

export const swarmScale: Scenario = {
  name: "swarm-scale",
  group: "spaces",
  description: "1,000 and 10,000 agents over threads: \"auto\": add, a ring through all, a broadcast to all",
  async run(ctx) {
    const counts = ctx.quick ? [200] : [1_000, 10_000];
    const hops = ctx.size(10_000, 500);
    const largest = counts.at(-1)!;
    ctx.target({ figure: `auto-add-${largest}`, of: "median", atMost: 10_000, text: `add of ${largest} agents (threads: "auto") < 10,000 ms` });
    ctx.target({ figure: `auto-rss-${largest}`, of: "median", atMost: 2_000, text: `RSS for ${largest} agents < 2,000 MB` });
    ctx.target({ figure: `auto-ring-${largest}`, of: "ratio", atLeast: 0.5, text: `ring of ${largest}: ≥ 50% of the single-thread ring's throughput` });
    for (const agents of counts) {
      const probe = (threads: string) =>
        runProbe<SwarmRun>("swarm-scale", [threads, String(agents), String(TOKENS), String(hops)], `${agents} agents on ${threads} thread(s)`);
      const runs = await ctx.repeat(`${agents} agents`, async () => ({ auto: await probe("auto"), one: await probe("1") }));
      const key = (what: string, threads = "auto") => `${threads}-${what}-${agents}`;
      ctx.record({ key: key("add"), label: `${agents} agents, threads "auto": add, time until all run`, unit: "ms" }, runs.map((r) => r.auto.addMs));
      ctx.record({ key: key("rss"), label: `${agents} agents, threads "auto": RSS growth of the process`, unit: "MB" }, runs.map((r) => r.auto.rssMb));
      ctx.record({ key: key("ring", "one"), label: `${agents} agents, 1 thread: ring, ${TOKENS} tokens × ${hops} hops`, unit: "msg/s" },
        runs.map((r) => r.one.hopsPerS));
      ctx.record({ key: key("ring"), label: `${agents} agents, threads "auto": ring, ${TOKENS} tokens × ${hops} hops`, unit: "msg/s",
        vs: key("ring", "one") }, runs.map((r) => r.auto.hopsPerS));
      ctx.record({ key: key("broadcast"), label: `${agents} agents, threads "auto": broadcast until all answered`, unit: "ms" },
        runs.map((r) => r.auto.broadcastMs));
    }
    ctx.note("each run is a fresh node process; a hop is one message (its answer goes back to the sender too); RSS counts every thread");
  },
};
