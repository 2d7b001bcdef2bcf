import { isAnswer, type Message } from "../message.js";

/** Actions remembered at once, at most: the oldest go first (an action whose answer never comes must not be kept for ever). */
const MAX_UNANSWERED = 100_000;

/**
 * The actions this process published whose answers have not come back,
 * with the connection they went out on. A broker restart loses what waits
 * in exclusive queues (Agency's layout: they go with the broker), and an
 * answer published before the receiver's queues were declared again: each
 * such action is published again once the connection is back, with the same
 * `meta.id` (see HandledActions, the receiving side).
 */
export class UnansweredActions {
  readonly #byId = new Map<string, { message: Message; connection: number; at: number }>();

  get size(): number {
    return this.#byId.size;
  }

  /** `message` went out on connection `connection` (counted from 0, one more after each loss). */
  sent(message: Message, connection: number): void {
    this.#byId.delete(message.meta.id);
    this.#byId.set(message.meta.id, { message, connection, at: Date.now() });
    if (this.#byId.size > MAX_UNANSWERED) this.#byId.delete(this.#byId.keys().next().value!);
  }

  /** An answer came: its action is settled (only by its receiver's answer, to its sender). */
  answered(answer: Message): void {
    const parent = answer.meta.parent_id;
    if (!isAnswer(answer) || parent === undefined) return;
    const sent = this.#byId.get(parent);
    if (sent && sent.message.to === answer.from && sent.message.from === answer.to) this.#byId.delete(parent);
  }

  /** `message` will not be answered: its sender has been told why (no such agent, say). */
  forget(message: Message): void {
    const sent = this.#byId.get(message.meta.id)?.message;
    if (sent && sent.from === message.from && sent.to === message.to) this.#byId.delete(message.meta.id);
  }

  /**
   * The actions that went out before connection `connection` and are still
   * unanswered, now counted as sent on it; those older than `withinMs` are
   * forgotten instead (their requests have timed out by now).
   */
  again(connection: number, withinMs: number): Message[] {
    const oldest = Date.now() - withinMs;
    const again: Message[] = [];
    for (const [id, sent] of this.#byId) {
      if (sent.connection >= connection) continue;
      if (sent.at < oldest) {
        this.#byId.delete(id);
        continue;
      }
      sent.connection = connection;
      again.push(sent.message);
    }
    return again;
  }
}
