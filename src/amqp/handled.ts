import { isAnswer, type Message } from "../message.js";

/** Actions remembered at once, at most, with their answers: the oldest go first. */
const MAX_HANDLED = 50_000;

/** What the receiving side makes of an action that arrives: new, a copy of one at work, or a copy of one answered (its answer). */
export type Arrival = "new" | "working" | Message;

/**
 * The meta key on an action its sender published again after a reconnect
 * (`meta.resent: true`): only such a copy is looked up among the actions
 * taken, since a peer may reuse an id for actions of their own (Agency
 * passes the key through unchanged).
 */
export const RESENT_KEY = "resent";

/** `message` marked as published again (the message itself is left as it is: its sender may hold it). */
export function markResent(message: Message): Message {
  return { ...message, meta: { ...message.meta, [RESENT_KEY]: true } as Message["meta"] };
}

function isResent(message: Message): boolean {
  return (message.meta as Record<string, unknown>)[RESENT_KEY] === true;
}

/**
 * The receiving side of UnansweredActions: the actions this process's
 * agents took lately, by receiver, sender and `meta.id`, and each one's
 * answer once given. A copy of one (marked resent: its sender published it
 * again after a broker restart) is not run twice: answered, its answer goes
 * again; still at work, the first answer will do.
 */
export class HandledActions {
  /** `<receiver>\n<sender>\n<id>` → its answer, undefined while at work; oldest first. */
  readonly #byKey = new Map<string, Message | undefined>();

  get size(): number {
    return this.#byKey.size;
  }

  /** Action `message` arrived for its receiver (not a redelivery): is it a copy of one taken before? */
  arrived(message: Message): Arrival {
    const key = `${message.to}\n${message.from}\n${message.meta.id}`;
    if (isResent(message) && this.#byKey.has(key)) return this.#byKey.get(key) ?? "working";
    this.#byKey.delete(key);
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
