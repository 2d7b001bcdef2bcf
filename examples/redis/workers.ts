/**
 * Terminal 1 (any host that reaches Redis): hosts prime-counting agents in
 * worker threads, in the namespace every script here names, until Ctrl-C.
 *
 *   npx tsx examples/redis/workers.ts [count]
 *
 * Ids are counter-0 … counter-<count-1>: the same in every run, so a process
 * started after one that died takes over its mailboxes (and what waits there).
 */
import { DuplicateAgentError, RedisSpace } from "agentspace";
import { PrimeCounter } from "../primes.js";

const count = Number(process.argv[2] ?? 2);
const namespace = process.env.AGENTSPACE_NAMESPACE ?? "primes-demo";

// A short lease: a process that dies gives its ids up within 2 s.
const space = new RedisSpace({ namespace, tuning: { leaseMs: 2_000 } });
space.on("error", (error) => console.error(`error: ${error.message}`));
for (let i = 0; i < count; i++) {
  const id = `counter-${i}`;
  for (;;) {
    try {
      await space.add(PrimeCounter, id);
      break;
    } catch (error) {
      if (!(error instanceof DuplicateAgentError)) throw error;
      // Held by a live process, or by one that died and whose lease has not yet run out.
      console.log(`${id} is still held elsewhere; trying again`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
console.log(`hosting ${space.agents.join(", ")} in namespace "${namespace}"; Ctrl-C to stop`);

const stop = async () => {
  // Mailboxes stay open: a process started later takes over what waits in them.
  await space.destroy({ keepMailboxes: true });
  console.log("stopped");
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
process.stdin.on("end", stop); // for scripts that drive this one through a pipe
process.stdin.resume();
