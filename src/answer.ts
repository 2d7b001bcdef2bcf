import { errorToWire } from "./errors.js";
import { assertJsonValue } from "./json-value.js";
import { ERROR, RESPONSE, assertCloneable, newMessageId, type Message } from "./message.js";

/**
 * The answer to `request`, sent by `from` back to the request's sender:
 * `[response]` with the value (`undefined` goes as `null`), or `[error]` with
 * the error's wire form. A value that cannot be cloned (or, when `json`, that
 * JSON would change) becomes an error.
 */
export function answerTo(request: Message, from: string, ok: boolean, outcome: unknown, json = false): Message {
  let args: Record<string, unknown> | undefined;
  if (ok) {
    const value = outcome === undefined ? null : outcome;
    try {
      assertCloneable(value, `the value of "${request.action.name}"`);
      if (json) assertJsonValue(value, `the value of "${request.action.name}"`);
      args = { value };
    } catch (error) {
      outcome = error;
    }
  }
  return {
    meta: { id: newMessageId(), parent_id: request.meta.id },
    from,
    to: request.from,
    action: args ? { name: RESPONSE, args } : { name: ERROR, args: { ...errorToWire(outcome) } },
  };
}
