/**
 * What a busy `@loop` in one agent costs the router's throughput for other
 * agents: in the same worker thread (`threads: 1`), and in a thread of its own.
 */
import { Agent, MultiprocessSpace } from "agentspace";
import { Spinner } from "../agents/busy.js";
import { Sender, Sink } from "../agents/pipeline.js";
import { now, nsSince } from "../lib/clock.js";
import type { Context, Count, Scenario } from "../lib/scenario.js";
import { RUN_TIMEOUT_MS } from "../lib/space-rig.js";

type Placement = { key: string; label: string; threads?: number };

const PLACEMENTS: Placement[] = [
  { key: "shared", label: "all in one thread (threads: 1)", threads: 1 },
  { key: "own", label: "each agent in its own thread" },
];

/** Sender → sink throughput, with or without a Spinner beside them. */
async function measure(ctx: Context, placement: Placement, busy: boolean, n: number): Promise<void> {
  const space = new MultiprocessSpace(placement.threads ? { threads: placement.threads } : {});
  try {
    const me = await space.addForeground(Agent, "me");
    await space.add(Sink, "sink", undefined, { mailboxSize: n + 16 });
    await space.add(Sender, "sender");
    if (busy) await space.add(Spinner, "spinner");
    const once = async (): Promise<Count> => {
      const start = now();
      const taken = await me.request<number>({ to: "sender", action: { name: "blast", args: { to: "sink", n } } }, { timeoutMs: RUN_TIMEOUT_MS });
      if (taken !== n) throw new Error(`the sink took ${taken} of ${n} messages`);
      return { count: n, ns: nsSince(start) };
    };
    const key = `${placement.key}-${busy ? "busy" : "quiet"}`;
    const label = `${placement.label}: sender → sink, ${n.toLocaleString("en-US")} sends, ${busy ? "beside a busy @loop" : "no loop"}`;
    await ctx.throughput({ key, label, unit: "msg/s", ...(busy ? { vs: `${placement.key}-quiet` } : {}) }, once);
  } finally {
    await space.destroy();
  }
}

export const loops: Scenario = {
  name: "loops",
  group: "spaces",
  description: "what a busy @loop in one agent costs other agents' throughput, in its thread and in others (msg/s)",
  async run(ctx) {
    const n = ctx.size(100_000, 10_000);
    for (const placement of PLACEMENTS) {
      await measure(ctx, placement, false, n);
      await measure(ctx, placement, true, n);
    }
    ctx.note(
      "busy: a third agent whose @loop works in 1 ms slices of CPU and yields (setImmediate) between them; " +
        "ratio: the figure with the loop over the same placement without it",
    );
  },
};
