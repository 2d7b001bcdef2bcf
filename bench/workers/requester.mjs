// Sends { k } sequential requests on its port, each after the previous answer,
// and answers with each round trip's duration in ns (a Float64Array).
// Timing here, in the requesting worker, measures exactly what an agent would wait.
import { parentPort, workerData } from "node:worker_threads";
import { makeMessage } from "./message.mjs";

const port = workerData.port;
let settle;
port.on("message", () => settle());

parentPort.on("message", async ({ k }) => {
  const samples = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    const start = process.hrtime.bigint();
    const answered = new Promise((resolve) => (settle = resolve));
    port.postMessage(makeMessage(i, "requester", "echo"));
    await answered;
    samples[i] = Number(process.hrtime.bigint() - start);
  }
  parentPort.postMessage(samples, [samples.buffer]);
});
parentPort.postMessage("ready");
