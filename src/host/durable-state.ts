import type { LinkedAgent } from "../agent-link.js";
import { MessageValidationError, StateFencedError } from "../errors.js";
import { jsonValueProblem } from "../json-value.js";
import type { Message } from "../message.js";

/**
 * Where the durable agents of one host keep their states: a SQLite file
 * (store-file.ts), or the space's main thread, which writes it to Redis
 * together with the message's acknowledgement (see RedisTransport).
 */
export interface StateSink {
  /** Takes `id` for this holder: its last written state (JSON text), or undefined when it has none. */
  claim(id: string): string | undefined | Promise<string | undefined>;
  /**
   * Writes `id`'s state after it handled `handled` (undefined: it handled an
   * answer), before the answer leaves. `changed`: the text differs from the
   * last written one (a sink that acknowledges nothing skips the rest).
   * False: another holder owns the id now, and nothing was written.
   */
  write(id: string, state: string, changed: boolean, handled: Message | undefined): boolean;
}

interface Stateful {
  snapshot?: () => unknown;
  restore?: (state: unknown) => unknown;
}

/**
 * One durable agent's state, across its instances: restored into each new
 * instance before it takes a message, written after each message it
 * handled, and put back as it was last written when an action fails (or
 * leaves a state JSON cannot carry), so that a failed message has no effect.
 *
 * The state is what `snapshot()` returns and `restore(state)` takes when
 * the class defines them (the live-reload contract), else its own fields.
 */
export class DurableState {
  readonly #id: string;
  readonly #sink: StateSink;
  /** The state as last written or restored (JSON text); undefined: none could be taken yet. */
  #written: string | undefined;

  constructor(id: string, sink: StateSink) {
    this.#id = id;
    this.#sink = sink;
  }

  /** Gives a new instance the last written state (none on the first start of the id: it keeps its constructor's). */
  async restore(instance: LinkedAgent): Promise<void> {
    const kept = await this.#sink.claim(this.#id);
    if (kept !== undefined) {
      let state: unknown;
      try {
        state = JSON.parse(kept);
      } catch (error) {
        // Read from a file or from Redis, which others can write: said, never half-applied.
        throw new MessageValidationError(
          `the kept state of durable agent "${this.#id}" is not JSON (${(error as Error).message}): fix or delete it where the space keeps states, then add the agent again`,
          { cause: error },
        );
      }
      await apply(instance, state);
      this.#written = kept;
      return;
    }
    // Its starting state: what a failing first action goes back to.
    try {
      const value = capture(instance);
      this.#written = jsonValueProblem(value, "state") === undefined ? JSON.stringify(value) ?? "null" : undefined;
    } catch {
      this.#written = undefined;
    }
  }

  /**
   * After `handled` (an action, or undefined for an answer it handled):
   * writes the state, or, when the action failed (`ok` false), puts the last
   * written one back. Returns why the outcome must be an error instead:
   * a state JSON cannot carry (MessageValidationError, naming the path), or
   * a write another holder refused (StateFencedError).
   */
  commit(instance: LinkedAgent, handled: Message | undefined, ok: boolean): Error | undefined {
    if (!ok) {
      this.#revert(instance);
      return undefined;
    }
    let text: string;
    try {
      const value = capture(instance);
      const problem = jsonValueProblem(value, "state");
      if (problem !== undefined) throw new MessageValidationError(problem);
      text = JSON.stringify(value) ?? "null";
    } catch (error) {
      this.#revert(instance);
      const why = error instanceof Error ? error.message : String(error);
      return new MessageValidationError(
        `the state of durable agent "${this.#id}" cannot be kept: ${why}. Its fields (or what snapshot() returns) must be JSON values; ` +
          `it is back at its last written state, as if this message had not come`,
        { cause: error },
      );
    }
    const changed = text !== this.#written;
    if (!this.#sink.write(this.#id, text, changed, handled)) {
      return new StateFencedError(
        `agent "${this.#id}" may no longer write its state: another holder took its id (this one stalled past its lease, or was added twice); this instance stops`,
      );
    }
    this.#written = text;
    return undefined;
  }

  #revert(instance: LinkedAgent): void {
    if (this.#written === undefined) return;
    const restored = apply(instance, JSON.parse(this.#written), true);
    if (restored instanceof Promise) restored.catch(() => {});
  }
}

/** Fields every agent has (from Agent itself): its identity and settings, not its state. */
const AGENT_FIELDS = new Set(["id", "receiveOwnBroadcasts"]);

function capture(instance: LinkedAgent): unknown {
  const stateful = instance as unknown as Stateful;
  if (typeof stateful.snapshot === "function") {
    const value = stateful.snapshot();
    if (value instanceof Promise) throw new TypeError("snapshot() of a durable agent must return its state, not a promise");
    return value;
  }
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(instance)) if (!AGENT_FIELDS.has(key)) fields[key] = (instance as unknown as Record<string, unknown>)[key];
  return fields;
}

/**
 * Gives `instance` its state. `exact`: the fields `state` lacks are deleted
 * (a failed action's new fields go); else they keep their constructor's
 * values (fields a newer version of the class added).
 */
function apply(instance: LinkedAgent, state: unknown, exact = false): unknown {
  const stateful = instance as unknown as Stateful;
  if (typeof stateful.restore === "function") return stateful.restore(state);
  if (state === null || typeof state !== "object" || Array.isArray(state)) return undefined;
  const fields = instance as unknown as Record<string, unknown>;
  if (exact) for (const key of Object.keys(instance)) if (!AGENT_FIELDS.has(key) && !Object.hasOwn(state, key)) delete fields[key];
  // Read from a file or from Redis: an own "__proto__" key (JSON.parse makes one) must not reach the prototype setter.
  for (const [key, value] of Object.entries(state)) if (!AGENT_FIELDS.has(key) && key !== "__proto__") fields[key] = value;
  return undefined;
}
