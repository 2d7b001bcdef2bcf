/**
 * Terminal 1 (any host that reaches the broker): hosts prime-counting agents
 * in worker threads, on the exchange both scripts name, until Ctrl-C.
 *
 *   npx tsx examples/amqp/workers.ts [count]
 */
import { hostname } from "node:os";
import { AMQPSpace } from "agentspace";
import { PrimeCounter } from "../primes.js";

const count = Number(process.argv[2] ?? 2);
const exchange = process.env.AGENTSPACE_EXCHANGE ?? "primes-demo";
// Ids are global on the broker: make them unique per host and process.
const prefix = `counter-${hostname()}-${process.pid}`;

const space = new AMQPSpace({ exchange });
for (let i = 0; i < count; i++) await space.add(PrimeCounter, `${prefix}-${i}`);
console.log(`hosting ${space.agents.join(", ")} on exchange "${exchange}"; Ctrl-C to stop`);

const stop = async () => {
  await space.destroy();
  console.log("stopped");
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
process.stdin.on("end", stop); // for scripts that drive this one through a pipe
process.stdin.resume();
