/**
 * Sequential round trips over raw MessagePorts: the floors under a request
 * from the main thread to a worker, and from one worker to another through a
 * router in the main thread.
 */
import { MessageChannel } from "node:worker_threads";
import { now, nsSince } from "../lib/clock.js";
import { withRig, type Rig } from "../lib/rig.js";
import type { Scenario } from "../lib/scenario.js";
import { command, replies, startReady, stopWorkers } from "../lib/workers.js";
import { makeMessage } from "../workers/message.mjs";

/** main ⇄ echo worker, timed in main; each run gives k samples in ns. */
export async function mainToWorker(k: number): Promise<Rig<number[]>> {
  const { port1: port, port2 } = new MessageChannel();
  const echo = await startReady("echo.mjs", { port: port2 }, [port2]);
  const answers = replies(port);
  return {
    async once() {
      const samples: number[] = [];
      for (let i = 0; i < k; i++) {
        const start = now();
        const answered = answers.next();
        port.postMessage(makeMessage(i, "main", "echo"));
        await answered;
        samples.push(nsSince(start));
      }
      return samples;
    },
    async close() {
      answers.close();
      port.close();
      await stopWorkers([echo]);
    },
  };
}

/** requester worker → main → echo worker → main → requester, timed in the requester. */
export async function workerToWorker(k: number): Promise<Rig<number[]>> {
  const toRequester = new MessageChannel();
  const toEcho = new MessageChannel();
  const requester = await startReady("requester.mjs", { port: toRequester.port2 }, [toRequester.port2]);
  const echo = await startReady("echo.mjs", { port: toEcho.port2 }, [toEcho.port2]);
  // The whole router: every message from one side goes to the other.
  toRequester.port1.on("message", (message) => toEcho.port1.postMessage(message));
  toEcho.port1.on("message", (message) => toRequester.port1.postMessage(message));
  return {
    once: async () => Array.from(await command<Float64Array>(requester, { k })),
    async close() {
      toRequester.port1.close();
      toEcho.port1.close();
      await stopWorkers([requester, echo]);
    },
  };
}

export const roundTrip: Scenario = {
  name: "round-trip",
  group: "baselines",
  description: "sequential round trips over raw MessagePorts: main⇄worker, and worker→main→worker→main→worker",
  async run(ctx) {
    const k = ctx.size(5_000, 300);
    await withRig(mainToWorker(k), (once) =>
      ctx.latency({ key: "main-worker", label: "main ⇄ worker", unit: "µs" }, once),
    );
    await withRig(workerToWorker(k), (once) =>
      ctx.latency(
        { key: "worker-main-worker", label: "worker → main → worker → main → worker", unit: "µs", vs: "main-worker" },
        once,
      ),
    );
    ctx.note(`${k.toLocaleString("en-US")} sequential round trips per run; p50 per run, median over runs`);
  },
};
