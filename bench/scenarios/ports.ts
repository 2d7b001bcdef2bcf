/**
 * Throughput between worker threads over raw MessagePorts: the direct
 * one-hop limit, and what a router in the main thread costs.
 */
import { MessageChannel, type MessagePort, type Worker } from "node:worker_threads";
import { now, nsSince } from "../lib/clock.js";
import { withRig, type Rig } from "../lib/rig.js";
import type { Count, Scenario } from "../lib/scenario.js";
import { command, nextMessage, startReady, stopWorkers } from "../lib/workers.js";
import type { BenchMessage } from "../workers/message.mjs";

/** The batch size of every batched figure. */
const BATCH = 64;

/** What the main thread does with what a sender posted, given each destination's inbound port. */
type Route = (arrived: BenchMessage | BenchMessage[], inbound: ReadonlyMap<string, MessagePort>) => void;

/** Forwards whatever arrived, unchanged, to the destination of its (first) message. */
const forward: Route = (arrived, inbound) => {
  const to = Array.isArray(arrived) ? arrived[0]!.to : arrived.to;
  inbound.get(to)!.postMessage(arrived);
};

/** Splits each arriving batch into one batch per destination: what a batching router does. */
const rebatch: Route = (arrived, inbound) => {
  const byDestination = new Map<string, BenchMessage[]>();
  for (const message of arrived as BenchMessage[]) {
    const batch = byDestination.get(message.to);
    if (batch === undefined) byDestination.set(message.to, [message]);
    else batch.push(message);
  }
  for (const [to, batch] of byDestination) inbound.get(to)!.postMessage(batch);
};

const startCounter = (port: MessagePort) => startReady("counter.mjs", { port }, [port]);
const startSender = (port: MessagePort) => startReady("sender.mjs", { port }, [port]);

/**
 * A sender worker and one counter worker per destination. Without `route`
 * the sender's port is wired straight to the one counter; with it, every
 * message passes through the main thread.
 */
async function pipeline(destinations: string[], n: number, batch: number, route?: Route): Promise<Rig<Count>> {
  const counters = new Map<string, Worker>();
  const mainPorts: MessagePort[] = [];
  let senderPort: MessagePort;
  if (route === undefined) {
    const { port1, port2 } = new MessageChannel();
    counters.set(destinations[0]!, await startCounter(port2));
    senderPort = port1;
  } else {
    const inbound = new Map<string, MessagePort>();
    for (const id of destinations) {
      const { port1, port2 } = new MessageChannel();
      inbound.set(id, port1);
      counters.set(id, await startCounter(port2));
    }
    const { port1: outbound, port2 } = new MessageChannel();
    outbound.on("message", (arrived: BenchMessage | BenchMessage[]) => route(arrived, inbound));
    mainPorts.push(outbound, ...inbound.values());
    senderPort = port2;
  }
  const sender = await startSender(senderPort);
  return {
    once: () => pump(sender, counters, n, batch),
    async close() {
      for (const port of mainPorts) port.close();
      await stopWorkers([sender, ...counters.values()]);
    },
  };
}

/** worker → worker over a direct MessageChannel, one message per postMessage: the one-hop limit (`direct-1`). */
export function directPipeline(n: number): Promise<Rig<Count>> {
  return pipeline(["b"], n, 1);
}

/** The same in arrays of 64 per postMessage: the strongest raw baseline for a router that batches. */
export function directPipelineBatched(n: number): Promise<Rig<Count>> {
  return pipeline(["b"], n, 64);
}

/** One timed run: n messages from the sender until every counter has its share. */
async function pump(sender: Worker, counters: ReadonlyMap<string, Worker>, n: number, batch: number): Promise<Count> {
  const share = n / counters.size;
  await Promise.all([...counters.values()].map((counter) => command(counter, { expect: share })));
  const counted = [...counters.values()].map((counter) => nextMessage(counter));
  const sent = nextMessage(sender);
  const start = now();
  sender.postMessage({ n, batch, to: [...counters.keys()] });
  await Promise.all(counted);
  const ns = nsSince(start);
  await sent;
  return { count: n, ns };
}

export const ports: Scenario = {
  name: "ports",
  group: "baselines",
  description: "worker→worker throughput over raw MessagePorts, direct and relayed through the main thread",
  async run(ctx) {
    // A multiple of 2 × BATCH: every batch full, both destinations an equal share.
    const n = 2 * BATCH * ctx.size(800, 40);
    const figures = [
      { key: "direct-1", label: "direct channel, 1 per postMessage", rig: () => pipeline(["b"], n, 1) },
      { key: "direct-64", label: `direct channel, ${BATCH} per postMessage`, rig: () => pipeline(["b"], n, BATCH) },
      { key: "relay-1", label: "relay via main, 1 per call", rig: () => pipeline(["b"], n, 1, forward) },
      { key: "relay-64", label: `relay via main, ${BATCH} per call`, rig: () => pipeline(["b"], n, BATCH, forward) },
      {
        key: "rebatch-2",
        label: `relay via main, re-batched for 2 destinations`,
        rig: () => pipeline(["b", "c"], n, BATCH, rebatch),
      },
    ];
    for (const { key, label, rig } of figures) {
      const vs = key === "direct-1" ? {} : { vs: "direct-1" };
      await withRig(rig(), (once) => ctx.throughput({ key, label, unit: "msg/s", ...vs }, once));
    }
    ctx.note(`${n.toLocaleString("en-US")} messages per run; ratios are to the direct channel, 1 per postMessage`);
  },
};
