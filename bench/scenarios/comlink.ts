/** comlink, the peer whose typed proxy our handles resemble: one call's round trip, and calls in flight. */
import { releaseProxy, wrap, type Endpoint, type Remote } from "comlink";
import { MessageChannel } from "node:worker_threads";
import { now, nsSince } from "../lib/clock.js";
import { withRig, type Rig } from "../lib/rig.js";
import type { Count, Scenario } from "../lib/scenario.js";
import { startReady, stopWorkers } from "../lib/workers.js";
import { makeMessage, type BenchMessage } from "../workers/message.mjs";

interface EchoApi {
  echo(message: BenchMessage): BenchMessage;
}

/** Calls in flight at once: the same 64 as the batched figures elsewhere. */
const IN_FLIGHT = 64;

async function comlinkRig<T>(once: (api: Remote<EchoApi>) => Promise<T>): Promise<Rig<T>> {
  const { port1, port2 } = new MessageChannel();
  const worker = await startReady("comlink-api.mjs", { port: port2 }, [port2]);
  // Node's MessagePort is an EventTarget with postMessage: a comlink Endpoint
  // as it is; only its type declarations differ from the DOM ones comlink names.
  const api = wrap<EchoApi>(port1 as unknown as Endpoint);
  return {
    once: () => once(api),
    async close() {
      api[releaseProxy]();
      port1.close();
      await stopWorkers([worker]);
    },
  };
}

async function sequential(api: Remote<EchoApi>, k: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < k; i++) {
    const start = now();
    await api.echo(makeMessage(i, "main", "echo"));
    samples.push(nsSince(start));
  }
  return samples;
}

/** n calls, IN_FLIGHT lanes each making its calls one after another. */
async function concurrent(api: Remote<EchoApi>, n: number): Promise<Count> {
  const perLane = n / IN_FLIGHT;
  const lane = async (offset: number) => {
    for (let i = 0; i < perLane; i++) await api.echo(makeMessage(offset + i, "main", "echo"));
  };
  const start = now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, j) => lane(j * perLane)));
  return { count: n, ns: nsSince(start) };
}

export const comlink: Scenario = {
  name: "comlink",
  group: "baselines",
  description: "comlink 4 over a worker: sequential call round trip, and throughput with 64 calls in flight",
  needs: ["round-trip"],
  async run(ctx) {
    const k = ctx.size(3_000, 200);
    const n = IN_FLIGHT * ctx.size(320, 20);
    await withRig(comlinkRig((api) => sequential(api, k)), (once) =>
      ctx.latency({ key: "call", label: "sequential call", unit: "µs", vs: "round-trip/main-worker" }, once),
    );
    await withRig(comlinkRig((api) => concurrent(api, n)), (once) =>
      ctx.throughput({ key: "in-flight-64", label: `${IN_FLIGHT} calls in flight`, unit: "calls/s" }, once),
    );
    ctx.note(`${k.toLocaleString("en-US")} sequential calls, ${n.toLocaleString("en-US")} concurrent calls per run`);
  },
};
