// Run as its own process: `node spawn-probe.mjs N` starts N idle workers at
// once, waits until every one has posted "ready", and prints
// { ms, rssDeltaBytes } as JSON. A fresh process per run, so that memory
// kept by the previous run's workers does not hide in the next delta.
import { Worker } from "node:worker_threads";

const count = Number(process.argv[2]);
const idle = new URL("./idle.mjs", import.meta.url);

const rssBefore = process.memoryUsage.rss();
const start = process.hrtime.bigint();
const workers = Array.from({ length: count }, () => new Worker(idle, { execArgv: [] }));
await Promise.all(
  workers.map((worker) => new Promise((resolve, reject) => {
    worker.once("message", resolve);
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`an idle worker exited (code ${code}) before all were running`)));
  })),
);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const rssDeltaBytes = process.memoryUsage.rss() - rssBefore;
await Promise.all(workers.map((worker) => worker.terminate()));
process.stdout.write(`${JSON.stringify({ ms, rssDeltaBytes })}\n`);
