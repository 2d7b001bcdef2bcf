/**
 * A CPU-heavy swarm on MultiprocessSpace: a coordinator agent farms prime
 * counting out to counter agents, each in its own worker thread, and we
 * watch its progress from a foreground agent in the main thread.
 *
 *   npm run demo
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { Agent, MultiprocessSpace, action } from "agentspace";
import { Coordinator, PrimeCounter, countPrimes, isPrime } from "./primes.js";

const LIMIT = 12_000_000;
const CHUNKS = 40;

/** Lives in the main thread and draws the coordinator's progress. */
class Console extends Agent {
  @action
  progress({ done, chunks }: { done: number; chunks: number }): void {
    const width = 30;
    const filled = Math.round((done / chunks) * width);
    const bar = `  [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${chunks} chunks`;
    if (process.stdout.isTTY) process.stdout.write(`\r${bar}${done === chunks ? "\n" : ""}`);
    else if (done % (chunks / 4) === 0) console.log(bar); // a log file gets a line per quarter
  }
}

async function countWith(counters: number): Promise<{ primes: number; ms: number }> {
  await using space = new MultiprocessSpace();
  const ids = Array.from({ length: counters }, (_, i) => `counter-${i}`);
  await Promise.all(ids.map((id) => space.add(PrimeCounter, id)));
  await space.add(Coordinator, "coordinator");
  const me = await space.addForeground(Console, "console");

  console.log(`${counters} counter agent(s), each in its own worker thread; agents: ${space.agents.join(", ")}`);
  const started = performance.now();
  const primes = await me.request<number>(
    { to: "coordinator", action: { name: "countPrimes", args: { limit: LIMIT, chunks: CHUNKS, counters: ids } } },
    { timeoutMs: Infinity },
  );
  return { primes, ms: performance.now() - started };
}

/**
 * The same chunks counted by `workers` bare worker threads (no agentspace),
 * each taking every `workers`-th chunk: what this machine gives without
 * any runtime, so the speed-up above has something to be read against.
 */
async function bareWorkers(workers: number): Promise<number> {
  const size = Math.ceil(LIMIT / CHUNKS);
  const source = `${isPrime}\n${countPrimes}\nconst { parentPort, workerData } = require("node:worker_threads");
    let found = 0;
    for (let chunk = workerData.first; chunk < ${CHUNKS}; chunk += ${workers}) found += countPrimes(chunk * ${size}, Math.min(${LIMIT}, (chunk + 1) * ${size}));
    parentPort.postMessage(found);`;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, (_, first) => new Promise((resolve, reject) => {
      const worker = new Worker(source, { eval: true, workerData: { first } });
      worker.once("message", resolve);
      worker.once("error", reject);
    })),
  );
  return performance.now() - started;
}

const cores = availableParallelism();
console.log(`Counting the primes below ${LIMIT.toLocaleString()} in ${CHUNKS} chunks.\n`);
const one = await countWith(1);
console.log(`  ${one.primes.toLocaleString()} primes in ${one.ms.toFixed(0)} ms\n`);
const many = await countWith(cores);
console.log(`  ${many.primes.toLocaleString()} primes in ${many.ms.toFixed(0)} ms`);
const bare = (await bareWorkers(1)) / (await bareWorkers(cores));
console.log(`\nSpeed-up with ${cores} counters on ${cores} cores: ${(one.ms / many.ms).toFixed(2)}x`);
console.log(`Bare worker threads (no agentspace) on this machine, 1 vs ${cores}: ${bare.toFixed(2)}x, the most to expect here`);
