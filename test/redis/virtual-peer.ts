/**
 * Run as a child process: serves virtual kind "w:" (Wallet) in a Redis
 * namespace until its stdin closes (or it is killed).
 *   node --import tsx virtual-peer.ts <namespace> <leaseMs> <idleMs>
 */
import { RedisSpace } from "../../src/index.js";
import { Wallet } from "../fixtures/wallet.js";

const [namespace, leaseMs, idleMs] = process.argv.slice(2) as [string, string, string];
const space = new RedisSpace({ namespace, tuning: { leaseMs: Number(leaseMs) } });
space.on("error", (error) => console.log(`error ${error.name}: ${error.message}`));
space.on("agent:added", (id) => console.log(`activated ${id}`));
space.on("agent:removed", (id) => console.log(`passivated ${id}`));
await space.virtual(Wallet, { prefix: "w:", idleMs: Number(idleMs) });
console.log("ready");
process.stdin.resume();
process.stdin.on("end", async () => {
  await space.destroy();
  console.log("destroyed");
});
