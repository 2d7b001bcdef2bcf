import { WANTS_VALUE, type LinkedAgent } from "./agent-link.js";
import { BROADCAST, isAnswer, type Message } from "./message.js";

/**
 * The meta key a sender puts on a plain send whose value nobody will see
 * (no request awaits it, no value handler or listener takes it):
 * `meta.answer: "errors"`. A receiver may then leave out the `[response]`
 * (an `[error]` still comes back). On a broker this halves the traffic of
 * one-way sends. Python Agency passes meta keys it does not know through
 * unchanged and never copies them into its answers, so it simply answers as
 * always.
 */
export const ANSWER_KEY = "answer";
export const ERRORS_ONLY = "errors";
/**
 * `meta.answer: "always"` on a broadcast: every receiver answers, one with
 * no such action with ActionNotFoundError (a gather: its sender waits for
 * each, and must not wait out its timeout for those that cannot answer).
 */
export const ALWAYS = "always";

/** Whether every receiver of broadcast `message` answers it (see ALWAYS). */
export function answersAlways(message: Message): boolean {
  return (message.meta as Record<string, unknown>)[ANSWER_KEY] === ALWAYS;
}

/** A copy of `message` marked errors-only (the message itself is left as it is: its sender may hold it). */
export function markErrorsOnly(message: Message): Message {
  return { ...message, meta: { ...message.meta, [ANSWER_KEY]: ERRORS_ONLY } as Message["meta"] };
}

/** `message` as `sender` sends it: marked errors-only when it is a plain send whose value `sender` would not see. */
export function markedFor(message: Message, sender: LinkedAgent): Message {
  if (isAnswer(message) || message.to === BROADCAST || sender[WANTS_VALUE](message)) return message;
  return markErrorsOnly(message);
}

/** Whether `message` asks to be answered only if it fails. */
export function wantsErrorsOnly(message: Message): boolean {
  return !isAnswer(message) && message.to !== BROADCAST && (message.meta as Record<string, unknown>)[ANSWER_KEY] === ERRORS_ONLY;
}

// Marked requests remembered at once, at most: one that is never answered
// (its agent removed first) must not be kept for ever.
const MAX_REMEMBERED = 100_000;

/**
 * The receiving side: remembers the errors-only requests that arrived, and
 * says which outgoing `[response]` answers one of them (then not sent). An
 * `[error]` always goes, and forgets its request.
 */
export class ErrorsOnlyRequests {
  /** `<receiver>\n<sender>\n<request id>`, oldest first: a request of another sender with the same id leaves this one's answer alone. */
  #marked = new Set<string>();

  arrived(message: Message): void {
    if (!wantsErrorsOnly(message)) return;
    this.#marked.add(`${message.to}\n${message.from}\n${message.meta.id}`);
    if (this.#marked.size > MAX_REMEMBERED) this.#marked.delete(this.#marked.values().next().value as string);
  }

  /** Whether `answer` is a `[response]` to an errors-only request (so nobody waits for it). */
  unwanted(answer: Message): boolean {
    const parent = answer.meta.parent_id;
    if (this.#marked.size === 0 || parent === undefined || !isAnswer(answer)) return false;
    const found = this.#marked.delete(`${answer.from}\n${answer.to}\n${parent}`);
    return found && answer.action.name !== "[error]";
  }
}
