import { MessageValidationError } from "../../errors.js";
import { BROADCAST, agentIdProblem, isAnswer, validateIncoming, type Message } from "../../message.js";
import type { Mailbox } from "../mailbox.js";
import type { Refusal } from "./frames.js";

/** What becomes of a message that came over the direct path: handled, or refused (then its sender puts it into Redis, or tells its agent). */
export type Verdict = (outcome: "done" | Refusal) => void;

/** A direct message handed to its agent and not yet handled. */
interface Delivery {
  readonly message: Message;
  readonly verdict: Verdict;
  generation: number;
  /** Acks of Redis copies of the same message, sent once this one is handled. */
  readonly copies: Array<() => void>;
}

/** Direct messages remembered as handled, at most: a sender moves what it holds into Redis within seconds of a break, so recent ones suffice. */
const MAX_REMEMBERED = 100_000;

/** A message remembered by its dedup key: at work (its delivery), or handled (undefined). */
interface Seen {
  readonly key: string;
  delivery: Delivery | undefined;
}

/**
 * The receiving end of the direct path: checks each message as one from
 * Redis is checked, hands it only to an agent this process holds, and
 * remembers it, so that the copy its sender puts into Redis after a broken
 * connection is not handled twice.
 */
export class DirectInbox {
  readonly #boxes: ReadonlyMap<string, Mailbox>;
  readonly #report: (error: Error) => void;
  /** Per agent id here: its direct messages at work, by dedup key. */
  #working = new Map<string, Map<string, Delivery>>();
  /** Direct messages handled or at work, by dedup key. */
  #seen = new Map<string, Seen>();
  /**
   * The same, oldest first, from `#oldest` on (entries no longer in `#seen` are skipped): the oldest is
   * found without iterating the map, whose deleted slots V8 walks over from the front until it rehashes
   * (forgetting one key per message that way costs time in proportion to the map's size).
   */
  #order: Array<Seen | undefined> = [];
  #oldest = 0;

  constructor(boxes: ReadonlyMap<string, Mailbox>, report: (error: Error) => void) {
    this.#boxes = boxes;
    this.#report = report;
  }

  /** A value from the socket: delivered to its agent, or refused through `verdict`. */
  take(value: unknown, peer: string, verdict: Verdict): void {
    let message: Message;
    try {
      message = checked(value);
    } catch (error) {
      this.#report(new MessageValidationError(`dropped an invalid message from process ${peer} on the direct path: ${(error as Error).message}`, { cause: error }));
      return verdict("invalid");
    }
    const box = this.#boxes.get(message.to);
    if (!box || box.released) return verdict("absent");
    const key = keyOf(message);
    const seen = this.#seen.get(key);
    if (seen && !seen.delivery) return verdict("done"); // handled already: a sender's retry
    if (seen) return void seen.delivery!.copies.push(() => verdict("done"));
    let working = this.#working.get(box.id);
    if (!working) this.#working.set(box.id, (working = new Map()));
    // The bound of its mailbox holds on this path too: what it took from Redis and what came direct.
    if (!isAnswer(message) && box.pending.size + working.size >= box.bound) return verdict("full");
    const delivery: Delivery = { message, verdict, generation: 0, copies: [] };
    working.set(key, delivery);
    this.#remember(key, delivery);
    this.#deliver(box, key, delivery, false);
  }

  /**
   * A message taken from Redis: when it is a copy of one that came direct,
   * `ack` is called once that one is handled (now, if it was) and true is returned.
   */
  absorb(message: Message, ack: () => void): boolean {
    if (this.#seen.size === 0) return false;
    const seen = this.#seen.get(keyOf(message));
    if (seen === undefined) return false;
    if (!seen.delivery) ack();
    else seen.delivery.copies.push(ack);
    return true;
  }

  /** Direct messages `id`'s agent has been handed and has not yet handled. */
  working(id: string): number {
    return this.#working.get(id)?.size ?? 0;
  }

  /** `id`'s agent restarted: what came direct and was not handled is delivered again. */
  redeliver(id: string): void {
    const box = this.#boxes.get(id);
    const working = this.#working.get(id);
    if (!box || !working) return;
    for (const [key, delivery] of working) {
      delivery.generation++;
      this.#deliver(box, key, delivery, true);
    }
  }

  /** `id`'s agent left: its senders take back what it had not handled (into Redis, where it is kept for the next holder or refused). */
  drop(id: string): void {
    const working = this.#working.get(id);
    if (!working) return;
    this.#working.delete(id);
    for (const [key, delivery] of working) {
      this.#seen.delete(key);
      delivery.verdict("absent");
    }
  }

  #deliver(box: Mailbox, key: string, delivery: Delivery, again: boolean): void {
    const generation = delivery.generation;
    const done = () => {
      if (delivery.generation !== generation || this.#working.get(box.id)?.get(key) !== delivery) return;
      this.#working.get(box.id)!.delete(key);
      const seen = this.#seen.get(key);
      if (seen?.delivery === delivery) seen.delivery = undefined;
      delivery.verdict("done");
      for (const ack of delivery.copies) ack();
    };
    try {
      box.deliver(delivery.message, done, again);
    } catch (error) {
      done();
      this.#report(new Error(`delivering message ${delivery.message.meta.id} to "${box.id}" threw`, { cause: error }));
    }
  }

  #remember(key: string, delivery: Delivery): void {
    const seen: Seen = { key, delivery };
    this.#seen.set(key, seen);
    this.#order.push(seen);
    while (this.#seen.size > MAX_REMEMBERED) {
      const oldest = this.#order[this.#oldest]!;
      this.#order[this.#oldest++] = undefined;
      if (this.#seen.get(oldest.key) === oldest) this.#seen.delete(oldest.key);
    }
    // Compacted now and then: the consumed front, and what `drop` forgot, do not pile up.
    if (this.#oldest >= 65_536 || this.#order.length - this.#oldest > 2 * MAX_REMEMBERED) {
      this.#order = this.#order.length - this.#oldest > 2 * MAX_REMEMBERED ? [...this.#seen.values()] : this.#order.slice(this.#oldest);
      this.#oldest = 0;
    }
  }
}

/** The same checks as a Redis mailbox entry gets (see decodeEntry), and no broadcast: those go through Redis. */
function checked(value: unknown): Message {
  validateIncoming(value);
  const badFrom = agentIdProblem(value.from);
  if (badFrom) throw new MessageValidationError(`"from": ${badFrom}`);
  if (value.to === BROADCAST) throw new MessageValidationError(`a broadcast never comes on the direct path`);
  return value;
}

/** Ids are the sender's: unique per sender and receiver, not across the space. */
function keyOf(message: Message): string {
  return `${message.from}\n${message.to}\n${message.meta.id}`;
}
