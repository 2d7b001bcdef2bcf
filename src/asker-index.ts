/**
 * Who sent an action to whom, for the agents still here: a departing agent's
 * askers are the only ones whose requests may wait on it. Both directions
 * are kept so that either side leaving frees its entries (a long-lived agent
 * asked by many short-lived ones must not grow without end).
 */
export class AskerIndex {
  /** Receiver → the agents that sent it an action. */
  #askersOf = new PairSide();
  /** Sender → the agents it sent an action to. */
  #askedBy = new PairSide();

  /** `from` sent `to` an action. */
  asked(from: string, to: string): void {
    if (this.#askersOf.add(to, from)) this.#askedBy.add(from, to);
  }

  /** The agents that asked `to` something, forgotten here: `to` left or restarted. */
  takeAskersOf(to: string): Iterable<string> {
    const askers = this.#askersOf.take(to);
    for (const from of askers) this.#askedBy.remove(from, to);
    return askers;
  }

  /** `from` left: what it asked needs no answer any more. */
  forgetAsker(from: string): void {
    for (const to of this.#askedBy.take(from)) this.#askersOf.remove(to, from);
  }

  clear(): void {
    this.#askersOf.clear();
    this.#askedBy.clear();
  }
}

/**
 * One direction of the index: key → values. Most agents talk to one other
 * (a pipeline, a ring, a client and its server), so a single value is kept
 * as the string itself and a Set is made only for a second one: a Set per
 * agent would cost more than the rest of its route.
 */
class PairSide {
  #values = new Map<string, string | Set<string>>();

  /** Adds `value` under `key`; false if it was there. */
  add(key: string, value: string): boolean {
    const held = this.#values.get(key);
    if (held === undefined) {
      this.#values.set(key, value);
      return true;
    }
    if (typeof held === "string") {
      if (held === value) return false;
      this.#values.set(key, new Set([held, value]));
      return true;
    }
    if (held.has(value)) return false;
    held.add(value);
    return true;
  }

  remove(key: string, value: string): void {
    const held = this.#values.get(key);
    if (held === value) this.#values.delete(key);
    else if (typeof held === "object" && held.delete(value) && held.size === 0) this.#values.delete(key);
  }

  /** Every value under `key`, taken out. */
  take(key: string): Iterable<string> {
    const held = this.#values.get(key);
    if (held === undefined) return [];
    this.#values.delete(key);
    return typeof held === "string" ? [held] : held;
  }

  clear(): void {
    this.#values.clear();
  }
}
