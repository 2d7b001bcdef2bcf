/**
 * The agents of a small market (run by examples/loops.ts): each bidder's
 * `@loop` bids on the lot for sale, the auctioneer's `@timer` closes a
 * round every 300 ms, and a bidder whose budget is spent calls `shutdown()`.
 * Kept apart from the script: a worker imports this module to run them.
 */
import { Agent, action, loop, sleep, timer } from "agentspace";

interface Bid {
  bidder: string;
  amount: number;
}

/** Sells one lot per round to the highest bid of the round. */
export class Auctioneer extends Agent {
  static module = import.meta.url;
  lot = 1;
  #best: Bid | undefined;

  @action
  current(): { lot: number; best: number } {
    return { lot: this.lot, best: this.#best?.amount ?? 0 };
  }

  @action
  bid(bid: Bid): boolean {
    if (bid.amount <= (this.#best?.amount ?? 0)) return false;
    this.#best = bid;
    return true;
  }

  /** Every 300 ms, after the previous round is settled: never two closings at once. */
  @timer(300)
  closeRound(): void {
    const sold = this.#best;
    this.#best = undefined;
    const text = sold ? `lot ${this.lot} sold to ${sold.bidder} for ${sold.amount}` : `lot ${this.lot}: no bids`;
    this.send({ to: "watcher", action: { name: "note", args: { text } } });
    if (sold) this.send({ to: sold.bidder, action: { name: "won", args: { amount: sold.amount } } });
    this.lot++;
  }
}

/** Bids on its own until its budget cannot buy anything more, then leaves the market. */
export class Bidder extends Agent {
  static module = import.meta.url;
  budget: number;
  lots = 0;

  constructor(id: string, init: { budget: number }) {
    super(id, init);
    this.budget = init.budget;
  }

  @loop
  async bidding(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const { best } = await this.request<{ best: number }>({ to: "auctioneer", action: { name: "current", args: {} } }, { signal });
      const offer = best + 1 + Math.floor(Math.random() * 5);
      if (offer <= this.budget) {
        this.send({ to: "auctioneer", action: { name: "bid", args: { bidder: this.id, amount: offer } } });
      }
      await sleep(40 + Math.random() * 80, signal); // cancelled at once when the agent stops
    }
  }

  @action
  won({ amount }: { amount: number }): void {
    this.budget -= amount;
    this.lots++;
    if (this.budget < 2) {
      this.send({ to: "watcher", action: { name: "note", args: { text: `${this.id} is out of money with ${this.lots} lots, and leaves` } } });
      this.shutdown(); // for good: no restart, whatever its policy
    }
  }
}
