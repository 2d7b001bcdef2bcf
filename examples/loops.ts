/**
 * A market of agents that act on their own (agents in examples/market.ts):
 * bidders bid from their loops, the auctioneer closes rounds on a timer, a
 * bidder out of money shuts itself down. The main thread only watches.
 *
 *   npm run build && npx tsx examples/loops.ts
 */
import { Agent, MultiprocessSpace, action, sleep } from "agentspace";
import { Auctioneer, Bidder } from "./market.js";

/** The main thread's window on the market. */
class Watcher extends Agent {
  @action
  note({ text }: { text: string }): void {
    console.log(text);
  }
}

async function main(): Promise<void> {
  await using space = new MultiprocessSpace({ threads: 2 });
  await space.addForeground(Watcher, "watcher");
  await space.add(Auctioneer, "auctioneer");
  for (const [id, budget] of [["ada", 40], ["bo", 25], ["cy", 60]] as const) {
    await space.add(Bidder, id, { budget }, { restart: "on-failure" });
  }
  space.on("agent:removed", (id) => console.log(`(${id} has left the space)`));
  // Let the market run on its own; show what runs in it now and then.
  for (let second = 1; second <= 4; second++) {
    await sleep(1_000);
    const running = Object.entries(space.stats()).map(([id, stats]) => `${id}: ${stats.loops} loops, ${stats.timers} timers`);
    console.log(`-- after ${second} s: ${running.join("; ")}`);
  }
}

await main();
