/**
 * Kills a worker process mid-run and shows the job finishing anyway, every
 * chunk counted once: the chunks the dead process had taken (and those sent
 * to its counters while it was down) wait in the counters' Redis mailboxes
 * until a second worker process takes the same ids over.
 *
 *   npx tsx examples/redis/crash.ts [limit]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Agent, RedisSpace, action } from "agentspace";
import { Coordinator } from "../primes.js";

const limit = Number(process.argv[2] ?? 4_000_000);
const chunks = 80;
const namespace = process.env.AGENTSPACE_NAMESPACE ?? `primes-crash-${process.pid}`;
const workersScript = fileURLToPath(new URL("./workers.ts", import.meta.url));
const counters = ["counter-0", "counter-1"];

/** Starts examples/redis/workers.ts (two counters) in a process of its own; resolves once it hosts them. */
async function startWorkers(name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", workersScript, "2"], {
    env: { ...process.env, AGENTSPACE_NAMESPACE: namespace },
    stdio: ["pipe", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      for (const line of chunk.toString().trim().split("\n")) console.log(`  [${name}] ${line}`);
      if (output.includes("Ctrl-C to stop")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code} before hosting its counters`)));
  });
  return child;
}

/** Prints the coordinator's progress, and kills the first worker process a quarter of the way in. */
class Console extends Agent {
  onProgress: (done: number) => void = () => {};

  @action
  progress({ done }: { done: number; chunks: number }): void {
    if (done % 10 === 0 || done === chunks) console.log(`  ${done}/${chunks} chunks`);
    this.onProgress(done);
  }
}

/** The primes below `n`, counted here with a sieve: what the farm must arrive at. */
function sieve(n: number): number {
  const composite = new Uint8Array(n);
  let found = 0;
  for (let i = 2; i < n; i++) {
    if (composite[i]) continue;
    found++;
    for (let j = i * i; j < n; j += i) composite[j] = 1;
  }
  return found;
}

const first = await startWorkers("workers 1");
const space = new RedisSpace({ namespace });
try {
  const console_ = await space.addForeground(Console, "console");
  await space.add(Coordinator, "coordinator");
  let second: Promise<ChildProcess> | undefined;
  console_.onProgress = (done) => {
    if (second || done < chunks / 4) return;
    console.log(`  killing workers 1 (pid ${first.pid}) with SIGKILL, ${done}/${chunks} chunks done`);
    first.kill("SIGKILL");
    // A new process takes over counter-0 and counter-1 once the dead one's leases run out.
    second = startWorkers("workers 2");
  };
  const started = performance.now();
  const primes = await console_.request<number>(
    { to: "coordinator", action: { name: "countPrimes", args: { limit, chunks, counters } } },
    { timeoutMs: Infinity },
  );
  const expected = sieve(limit);
  console.log(`${primes.toLocaleString("en-US")} primes below ${limit.toLocaleString("en-US")} in ${(performance.now() - started).toFixed(0)} ms`);
  console.log(primes === expected ? `every chunk counted once: a sieve finds ${expected.toLocaleString("en-US")} too` : `WRONG: a sieve finds ${expected.toLocaleString("en-US")}`);
  if (second) (await second).stdin!.end();
  else first.stdin!.end();
  process.exitCode = primes === expected ? 0 : 1;
} finally {
  // The counters' mailboxes were left open by the workers (keepMailboxes): end them with this demo.
  await space.destroy();
  await endMailboxes();
}

/** Takes counter-0 and counter-1 over once their process has left, and removes them: their mailboxes go too. */
async function endMailboxes(): Promise<void> {
  const cleaner = new RedisSpace({ namespace, tuning: { leaseMs: 2_000 } });
  try {
    for (const id of counters) {
      for (let attempt = 0; attempt < 40; attempt++) {
        const added = await cleaner.addForeground(Agent, id).then(() => true, () => false);
        if (added) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  } finally {
    await cleaner.destroy();
  }
}
