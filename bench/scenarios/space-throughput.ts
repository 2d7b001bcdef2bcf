/**
 * One agent sends N small messages to another,
 * pipelined, in every space; msg/s as a ratio to the raw limit of one hop.
 */
import { now, nsSince } from "../lib/clock.js";
import { throughputAgainst } from "../lib/baselined.js";
import type { Rig } from "../lib/rig.js";
import type { Count, Scenario } from "../lib/scenario.js";
import { RUN_TIMEOUT_MS, spaceRig, type SpaceMaker } from "../lib/space-rig.js";
import { spaceKinds } from "../lib/spaces.js";
import { Sender, Sink } from "../agents/pipeline.js";
import { directPipelineBatched } from "./ports.js";

/** Room in the sink's mailbox beyond the n messages: the final "count" request. */
const MAILBOX_SLACK = 16;

/** The sender pipelining `n` sends to the sink, in a space of `kind`: one timed run per call of the rig. */
export function pipeline(kind: SpaceMaker, n: number): Promise<Rig<Count>> {
  return spaceRig(kind, async ({ space, me, id }) => {
    const [sink, sender] = [id("sink"), id("sender")];
    // Room for the whole burst: the sender does not wait for the sink, so a mailbox bound below n would
    // refuse the rest (MailboxFullError), which is what the bound is for, not what is measured here.
    await space.add(Sink, sink, undefined, { mailboxSize: n + MAILBOX_SLACK });
    await space.add(Sender, sender);
    return async () => {
      const start = now();
      // The sender sends n messages in its action, then requests "count" from
      // the sink: that answer comes after every message was taken.
      const taken = await me.request<number>(
        { to: sender, action: { name: "blast", args: { to: sink, n } } },
        { timeoutMs: RUN_TIMEOUT_MS },
      );
      const ns = nsSince(start);
      if (taken !== n) throw new Error(`the sink took ${taken} of ${n} messages`);
      return { count: n, ns };
    };
  });
}

export const spaceThroughput: Scenario = {
  name: "throughput",
  group: "spaces",
  description: "one agent pipelines N small messages to another, in each space (msg/s)",
  async run(ctx) {
    // Declared first, so that a run that fails part-way still prints each verdict (or "not measured").
    ctx.target({ figure: "multiprocess", of: "ratio", atLeast: 0.5,
      text: "router throughput ≥ 50% of raw worker↔worker MessagePort (direct, 1 per postMessage)" });
    ctx.target({ figure: "multiprocess-batched", of: "ratio", atLeast: 0.5,
      text: "router throughput ≥ 50% of raw worker↔worker MessagePort, batched (64 per postMessage)" });
    ctx.target({ figure: "local", of: "median", atLeast: 1_000_000, text: "LocalSpace ≥ 1,000,000 msg/s" });
    ctx.target({ figure: "redis", of: "ratio", atLeast: 0.5,
      text: "RedisSpace one-way sends ≥ 50% of the raw node-redis stream rate (pipelined XADD → XREADGROUP → XACK)" });
    for (const kind of await spaceKinds(ctx)) {
      const n = kind.slow ? ctx.size(10_000, 500) : ctx.size(200_000, 20_000);
      const spec = { key: kind.key, label: `${kind.name}: agent → agent, ${n.toLocaleString("en-US")} sends`, unit: "msg/s" } as const;
      await throughputAgainst(ctx, spec, n, () => pipeline(kind, n), kind.baselines.throughput);
      if (kind.key === "multiprocess") {
        // The router batches, so the raw port batched is the fairer and stronger limit: measured too, alternating again.
        const batched = { key: `${kind.key}-batched`, label: `${spec.label} (against the batched port)`, unit: "msg/s" } as const;
        const raw = { label: "raw: worker → worker MessagePort, 64 per postMessage (ports/direct-64)", rig: directPipelineBatched };
        await throughputAgainst(ctx, batched, n, () => pipeline(kind, n), raw);
      }
    }
    ctx.note(
      "the sender is an agent sending in its own action (in its worker, for MultiprocessSpace); each message is " +
        "also answered with a [response], so the router moves 2N messages, except in LocalSpace, where the answer " +
        "of a plain send that nobody would see (no value handler, no listener) is counted but not built; timed " +
        "from the foreground request that starts it to the answer of a final request to the receiver",
    );
    ctx.note(
      "raw: the baseline measured in alternate runs with the figure below it (raw, ours, raw, ours, …), " +
        "so that both see the same background load; its name in the baseline scenarios in brackets",
    );
  },
};
