/**
 * The demo's CPU-heavy job (counting primes, farmed
 * out by a coordinator agent) on 1 and on 2 counter agents in
 * MultiprocessSpace: the speed-up, and what the agents cost over doing the
 * same work in one thread with no agent at all.
 */
import { now, nsSince, NS_PER_MS } from "../lib/clock.js";
import { withRig, type Rig } from "../lib/rig.js";
import type { Scenario } from "../lib/scenario.js";
import { RUN_TIMEOUT_MS, spaceRig } from "../lib/space-rig.js";
import { spaceKinds, type SpaceKind } from "../lib/spaces.js";
import { Coordinator, PrimeCounter, countPrimes } from "../agents/primes.js";

/** The demo's chunking (examples/demo.ts). */
const CHUNKS = 40;

interface Job {
  limit: number;
  /** pi(limit): checks every run. */
  expected: number;
}

function swarm(kind: SpaceKind, counters: number, job: Job): Promise<Rig<number>> {
  return spaceRig(kind, async ({ space, me, id }) => {
    const ids = Array.from({ length: counters }, (_, i) => id(`counter-${i}`));
    await Promise.all(ids.map((counter) => space.add(PrimeCounter, counter)));
    const coordinator = id("coordinator");
    await space.add(Coordinator, coordinator);
    return async () => {
      const start = now();
      const primes = await me.request<number>(
        { to: coordinator, action: { name: "countPrimes", args: { limit: job.limit, chunks: CHUNKS, counters: ids } } },
        { timeoutMs: RUN_TIMEOUT_MS },
      );
      const ms = nsSince(start) / NS_PER_MS;
      if (primes !== job.expected) throw new Error(`counted ${primes} primes below ${job.limit}, not ${job.expected}`);
      return ms;
    };
  });
}

export const swarmScenario: Scenario = {
  name: "swarm",
  group: "spaces",
  description: "the demo's prime counting on 1 vs 2 counter agents, MultiprocessSpace (ms, speed-up)",
  async run(ctx) {
    // The demo counts below 12,000,000; --quick a twelfth of it.
    const limit = ctx.size(12_000_000, 1_000_000);
    const job: Job = { limit, expected: countPrimes(0, limit) };
    const direct = async () => {
      const start = now();
      if (countPrimes(0, limit) !== job.expected) throw new Error("countPrimes is not deterministic");
      return nsSince(start) / NS_PER_MS;
    };
    for (const kind of await spaceKinds(ctx, (kind) => kind.key === "multiprocess")) {
      // Both swarms set up at once, and each run times all three in turn, so that all see the same load.
      const runs = await withRig(swarm(kind, 1, job), (one) =>
        withRig(swarm(kind, 2, job), (two) =>
          ctx.repeat(`${kind.name}: direct, 1 and 2 counters`, async () => ({ direct: await direct(), one: await one(), two: await two() })),
        ),
      );
      ctx.record({ key: "direct", label: "raw: the same count in this thread, no agents", unit: "ms" }, runs.map((r) => r.direct));
      ctx.record({ key: `${kind.key}-1`, label: `${kind.name}: 1 counter agent`, unit: "ms", vs: "direct" }, runs.map((r) => r.one));
      ctx.record({ key: `${kind.key}-2`, label: `${kind.name}: 2 counter agents`, unit: "ms", vs: `${kind.key}-1` }, runs.map((r) => r.two));
      ctx.record({ key: `${kind.key}-speed-up`, label: `${kind.name}: speed-up, 2 counters over 1`, unit: "×" },
        runs.map((r) => r.one / r.two));
    }
    ctx.note(
      `pi(${limit.toLocaleString("en-US")}) = ${job.expected.toLocaleString("en-US")} in ${CHUNKS} chunks, ` +
        "one request per chunk in flight per counter; the ideal speed-up on 2 free cores is 2×, " +
        "and the coordinator and the main thread share them with the counters",
    );
  },
};
