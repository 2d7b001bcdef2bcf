/**
 * Terminal 2: finds every prime counter in the namespace (they all answer a
 * broadcast `help`), then has a coordinator agent farm the job out to them.
 *
 *   npx tsx examples/redis/coordinator.ts [limit]
 */
import { hostname } from "node:os";
import { Agent, RedisSpace, action } from "agentspace";
import { Coordinator } from "../primes.js";

const limit = Number(process.argv[2] ?? 5_000_000);
const namespace = process.env.AGENTSPACE_NAMESPACE ?? "primes-demo";
const me = `console-${hostname()}-${process.pid}`;

/** Collects who answered the broadcast `help`, and prints the coordinator's progress. */
class Console extends Agent {
  counters: string[] = [];

  override handleActionValue(help: unknown): void {
    const from = this.currentMessage()!.from;
    if (help && typeof help === "object" && "count" in help) this.counters.push(from);
  }

  @action
  progress({ done, chunks }: { done: number; chunks: number }): void {
    if (done % 10 === 0 || done === chunks) console.log(`  ${done}/${chunks} chunks`);
  }
}

await using space = new RedisSpace({ namespace });
const console_ = await space.addForeground(Console, me);
console_.send({ to: "*", action: { name: "help" } });
await new Promise((resolve) => setTimeout(resolve, 500)); // answers from every live process of the namespace
if (console_.counters.length === 0) throw new Error(`no prime counters in namespace "${namespace}": start examples/redis/workers.ts first`);
console.log(`found ${console_.counters.length} counters: ${console_.counters.sort().join(", ")}`);

const coordinator = `coordinator-${hostname()}-${process.pid}`;
await space.add(Coordinator, coordinator);
const started = performance.now();
const primes = await console_.request<number>(
  { to: coordinator, action: { name: "countPrimes", args: { limit, chunks: 40, counters: console_.counters } } },
  { timeoutMs: Infinity },
);
console.log(`${primes.toLocaleString("en-US")} primes below ${limit.toLocaleString("en-US")} in ${(performance.now() - started).toFixed(0)} ms`);
