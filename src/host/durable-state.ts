import type { LinkedAgent } from "../agent-link.js";
import { MessageValidationError, StateFencedError } from "../errors.js";
import { jsonValueProblem } from "../json-value.js";
import type { Message } from "../message.js";

/**
 * Where the durable agents of one host keep their states: a SQLite file
 * (state-file.ts), or the space's main thread, which writes it to Redis
 * together with the message's acknowledgement (see RedisTransport).
 */
export interface StateSink {
  /**
   * Writes wait for the end of the turn: what an agent handles in one turn
   * is written once, as its last state, and everything the agent sends
   * after its first change waits with the write (a file: one write per
   * turn instead of one per message). A sink that writes nothing itself
   * (the main thread batches) leaves this out.
   */
  readonly deferred?: boolean;
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
  /** The state as last kept, written or waiting to be (JSON text); undefined: none could be taken yet. */
  #kept: string | undefined;
  /** A deferred sink's state waiting for the end of the turn. */
  #unwritten: string | undefined;
  /** What the agent sent since its state changed, held until that state is written. */
  #held: Message[] = [];
  #release: (held: Message[], refusal: StateFencedError | undefined) => void = () => {};

  constructor(id: string, sink: StateSink) {
    this.#id = id;
    this.#sink = sink;
  }

  /** Where held messages go once the state is written (or, refused, what to answer instead): its host. */
  releaseTo(release: (held: Message[], refusal: StateFencedError | undefined) => void): void {
    this.#release = release;
  }

  /** Keeps `message` back when the state it follows is not yet written; false: it may go now. */
  holds(message: Message): boolean {
    if (this.#unwritten === undefined) return false;
    this.#held.push(message);
    return true;
  }

  /** Gives a new instance the last written state (none on the first start of the id: it keeps its constructor's). */
  async restore(instance: LinkedAgent): Promise<void> {
    this.#flush(); // what the last instance changed comes first
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
      this.#kept = kept;
      return;
    }
    // Its starting state: what a failing first action goes back to.
    try {
      this.#kept = stateText(instance);
    } catch {
      this.#kept = undefined;
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
      text = stateText(instance);
    } catch (error) {
      this.#revert(instance);
      const why = error instanceof Error ? error.message : String(error);
      return new MessageValidationError(
        `the state of durable agent "${this.#id}" cannot be kept: ${why}. Its fields (or what snapshot() returns) must be JSON values; ` +
          `it is back at its last written state, as if this message had not come`,
        { cause: error },
      );
    }
    const changed = text !== this.#kept;
    if (this.#sink.deferred) {
      if (!changed) return undefined;
      if (this.#unwritten === undefined) queueMicrotask(() => this.#flush());
      this.#unwritten = this.#kept = text;
      return undefined;
    }
    if (!this.#sink.write(this.#id, text, changed, handled)) {
      // Refused as a deferred write is: reported, and the instance stops (see releaseTo); the answer carries it.
      const refusal = this.#refusal();
      this.#release([], refusal);
      return refusal;
    }
    this.#kept = text;
    return undefined;
  }

  /** Writes a deferred state, then lets go what waited for it. */
  #flush(): void {
    const text = this.#unwritten;
    if (text === undefined) return;
    this.#unwritten = undefined;
    const held = this.#held;
    this.#held = [];
    let written: boolean;
    try {
      written = this.#sink.write(this.#id, text, true, undefined);
    } catch (error) {
      // The file failed (a full disk, a lock held too long): nothing was written, so nothing held may go as if it were.
      this.#release(held, this.#refusal(error));
      return;
    }
    this.#release(held, written ? undefined : this.#refusal());
  }

  #refusal(cause?: unknown): StateFencedError {
    const why = cause === undefined
      ? "another holder took its id (this one stalled past its lease, or was added twice)"
      : `the write failed (${cause instanceof Error ? cause.message : String(cause)})`;
    return new StateFencedError(`agent "${this.#id}" may no longer write its state: ${why}; this instance stops`, cause === undefined ? undefined : { cause });
  }

  #revert(instance: LinkedAgent): void {
    if (this.#kept === undefined) return;
    const restored = apply(instance, JSON.parse(this.#kept), true);
    if (restored instanceof Promise) restored.catch(() => {});
  }
}

/** The instance's state as JSON text; throws (MessageValidationError, naming the path) when JSON cannot carry it exactly. */
function stateText(instance: LinkedAgent): string {
  const value = capture(instance);
  const problem = jsonValueProblem(value, "state");
  if (problem !== undefined) throw new MessageValidationError(problem);
  return JSON.stringify(value) ?? "null";
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
