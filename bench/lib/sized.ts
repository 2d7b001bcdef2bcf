/** Throughput against message size: ours (agent → agent in MultiprocessSpace) and a raw direct port. */
import { MessageChannel } from "node:worker_threads";
import { Agent, MultiprocessSpace } from "agentspace";
import { SizedSender } from "../agents/sized.js";
import { Sink } from "../agents/pipeline.js";
import { now, nsSince } from "./clock.js";
import type { Rig } from "./rig.js";
import type { Count } from "./scenario.js";
import { command, nextMessage, startReady, stopWorkers } from "./workers.js";

/** Messages per run for payloads of `bytes`: about `budget` bytes in all, within sensible bounds. */
export function messagesFor(bytes: number, budget: number): number {
  return Math.max(20, Math.min(20_000, Math.round(budget / bytes)));
}

/** A SizedSender agent pipelining `n` payloads of `bytes` to a Sink, each in a worker of its own. */
export async function oursSized(n: number, bytes: number): Promise<Rig<Count>> {
  const space = new MultiprocessSpace();
  try {
    const me = await space.addForeground(Agent, "me");
    await space.add(Sink, "sink", undefined, { mailboxSize: n + 16 });
    await space.add(SizedSender, "sender");
    return {
      async once() {
        const start = now();
        const taken = await me.request<number>({ to: "sender", action: { name: "blastSized", args: { to: "sink", n, bytes } } }, { timeoutMs: 120_000 });
        const ns = nsSince(start);
        if (taken !== n) throw new Error(`the sink took ${taken} of ${n} messages`);
        return { count: n, ns };
      },
      close: () => space.destroy(),
    };
  } catch (error) {
    await space.destroy();
    throw error;
  }
}

/** The same payloads from a bare worker to a counting worker over a direct MessageChannel, one per postMessage. */
export async function rawSized(n: number, bytes: number): Promise<Rig<Count>> {
  const { port1, port2 } = new MessageChannel();
  const counter = await startReady("counter.mjs", { port: port2 }, [port2]);
  const sender = await startReady("sized-sender.mjs", { port: port1 }, [port1]);
  return {
    async once() {
      await command(counter, { expect: n });
      const counted = nextMessage(counter);
      const sent = nextMessage(sender);
      const start = now();
      sender.postMessage({ n, bytes, to: "b" });
      await counted;
      const ns = nsSince(start);
      await sent;
      return { count: n, ns };
    },
    close: () => stopWorkers([sender, counter]),
  };
}
