/**
 * Run as a child process: joins a Redis namespace and hosts one agent until
 * its stdin closes (or it is killed); with --direct, on the direct path.
 *   node --import tsx peer.ts [--direct] <namespace> <agent-id> <calculator|tally|serial-tally|sequence|account> [leaseMs] [retry]
 * With "retry", an id another process holds is asked for again until its lease runs out.
 */
import { DuplicateAgentError, RedisSpace } from "../../src/index.js";
import { Account } from "../fixtures/accounts.js";
import { Calculator } from "../fixtures/calculator.js";
import { Sequence } from "../fixtures/direct-sequence.js";
import { SerialTally, Tally } from "./tally.js";

const args = process.argv.slice(2);
const direct = args[0] === "--direct";
const [namespace, id, kind, leaseMs, retry] = (direct ? args.slice(1) : args) as [string, string, string, string | undefined, string | undefined];
const space = new RedisSpace({ namespace, direct, tuning: leaseMs ? { leaseMs: Number(leaseMs) } : {} });
space.on("error", (error) => console.log(`error ${error.name}: ${error.message}`));

async function add(): Promise<void> {
  if (kind === "tally") await space.add(Tally, id, { observer: "me" });
  else if (kind === "serial-tally") await space.add(SerialTally, id, { observer: "me" });
  else if (kind === "sequence") await space.add(Sequence, id, { observer: "me" });
  else if (kind === "account") await space.add(Account, id);
  else await space.add(Calculator, id);
}

for (;;) {
  try {
    await add();
    console.log(`ready ${id}`);
    break;
  } catch (error) {
    if (retry === "retry" && error instanceof DuplicateAgentError) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    console.log(`refused ${id}: ${(error as Error).name}: ${(error as Error).message}`);
    break;
  }
}
process.stdin.resume();
process.stdin.on("end", async () => {
  await space.destroy();
  console.log("destroyed");
});
