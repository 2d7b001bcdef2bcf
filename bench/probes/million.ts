/**
 * Run as its own process, with --expose-gc: `million.ts <agents> <threads>`
 * adds that many agents to a MultiprocessSpace (`threads`: "auto", "1"…),
 * a thousand at a time; requests a ping of each; removes them all (destroy).
 * Prints the time of each phase and the heap per agent of the main thread
 * and of the worker threads, each after a full collection.
 */
import { MultiprocessSpace } from "agentspace";
import { availableParallelism } from "node:os";
import { Resident } from "../agents/resident.js";

const [agentsArg = "1000", threadsArg = "auto"] = process.argv.slice(2);
const agents = Number(agentsArg);
const threads = threadsArg === "auto" ? availableParallelism() : Number(threadsArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run million.ts with node --expose-gc");

const space = new MultiprocessSpace({ threads: threadsArg === "auto" ? "auto" : threads });
const me = await space.addForeground(Resident, "me");
// The first add into each thread starts it: one reporter per thread, before the count.
for (let t = 0; t < threads; t++) await space.add(Resident, `heap-${t}`);
const workerHeap = async () => {
  let bytes = 0;
  for (let t = 0; t < threads; t++) bytes += await me.request<number>({ to: `heap-${t}`, action: { name: "heap", args: {} } });
  return bytes;
};
const mainHeap = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

/** On stderr, while a phase that takes minutes runs: how far, and the main thread's heap. */
const progress = (what: string) => process.stderr.write(`million: ${what}, main heap ${Math.round(process.memoryUsage().heapUsed / 1e6)} MB\n`);

const [main0, workers0, rss0] = [mainHeap(), await workerHeap(), process.memoryUsage.rss()];
let start = performance.now();
const BATCH = 1_000;
for (let i = 0; i < agents; i += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, agents - i) }, (_, j) => space.add(Resident, `r-${i + j}`)));
  if ((i + BATCH) % 100_000 === 0) progress(`${i + BATCH} added`);
}
const addMs = performance.now() - start;
const [main1, workers1, rss1] = [mainHeap(), await workerHeap(), process.memoryUsage.rss()];

start = performance.now();
for (let i = 0; i < agents; i += BATCH) {
  await Promise.all(
    Array.from({ length: Math.min(BATCH, agents - i) }, (_, j) => me.request({ to: `r-${i + j}`, action: { name: "ping", args: {} } })),
  );
}
const pingMs = performance.now() - start;
progress("each pinged");

start = performance.now();
await space.destroy();
const removeMs = performance.now() - start;

process.stdout.write(
  `${JSON.stringify({
    addMs,
    pingMs,
    removeMs,
    mainBytes: (main1 - main0) / agents,
    workerBytes: (workers1 - workers0) / agents,
    rssBytes: (rss1 - rss0) / agents,
  })}\n`,
);
