import { isAnswer, type Message } from "../message.js";

/** Actions remembered at once, at most, with their answers: the oldest go first. */
const MAX_HANDLED = 50_000;

/** What the receiving side makes of an action that arrives: new, a copy of one at work, or a copy of one answered (its answer). */
export type Arrival = "new" | "working" | Message;

/**
 * The receiving side of UnansweredActions: the actions this process's
 * agents took lately, by receiver, sender and `meta.id`, and each one's
 * answer once given. A copy of one (its sender published it again after a
 * broker restart) is not run twice: answered, its answer goes again;
 * still at work, the first answer will do.
 */
export class HandledActions {
  /** `<receiver>\n<sender>\n<id>` → its answer, undefined while at work; oldest first. */
  readonly #byKey = new Map<string, Message | undefined>();

  get size(): number {
    return this.#byKey.size;
  }

  /** Action `message` arrived for its receiver (not a redelivery): is it one seen before? */
  arrived(message: Message): Arrival {
    const key = `${message.to}\n${message.from}\n${message.meta.id}`;
    if (this.#byKey.has(key)) return this.#byKey.get(key) ?? "working";
    this.#byKey.set(key, undefined);
    if (this.#byKey.size > MAX_HANDLED) this.#byKey.delete(this.#byKey.keys().next().value!);
    return "new";
  }

  /** An agent here answered: kept for a copy of its action that may still come. */
  answered(answer: Message): void {
    const parent = answer.meta.parent_id;
    if (!isAnswer(answer) || parent === undefined) return;
    const key = `${answer.from}\n${answer.to}\n${parent}`;
    if (this.#byKey.has(key)) this.#byKey.set(key, answer);
  }
}
