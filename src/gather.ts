import { startTimeout, stopTimeout, type Timeout } from "./timeout.js";

export interface GatherOptions {
  /**
   * The ids whose answers are awaited: the gather ends as soon as each has
   * answered, and those that did not by the timeout are listed as `missing`.
   * Without it, every answer that comes within `timeoutMs` is gathered.
   */
  expect?: Iterable<string>;
  /** How long to wait (default: the space's request timeout with `expect`, else 1 s). */
  timeoutMs?: number;
}

/** The answers a gather collected, by agent id. */
export interface Gathered<T = unknown> {
  values: Record<string, T>;
  /** Agents whose action failed, or that have no such action (ActionNotFoundError). */
  errors: Record<string, Error>;
  /** Expected ids that had not answered when the time ran out. */
  missing: string[];
}

/** How long a gather with no `expect` listens for answers by default. */
export const GATHER_LISTEN_MS = 1_000;

/**
 * The answers to one broadcast request, as they come: a value or an error
 * per receiver (the first one counts), settled when every expected
 * receiver has answered, or when the time is up.
 */
export class Gathering<T = unknown> {
  readonly #values = new Map<string, T>();
  readonly #errors = new Map<string, Error>();
  readonly #waitingFor: Set<string> | undefined;
  readonly #expected: string[] | undefined;
  readonly #resolve: (gathered: Gathered<T>) => void;
  readonly #timer: Timeout;
  readonly #done: () => void;
  readonly result: Promise<Gathered<T>>;

  constructor(options: { expect?: Iterable<string>; timeoutMs: number }, done: () => void) {
    this.#expected = options.expect === undefined ? undefined : [...new Set(options.expect)];
    this.#waitingFor = this.#expected && new Set(this.#expected);
    this.#done = done;
    let resolve!: (gathered: Gathered<T>) => void;
    this.result = new Promise((settle) => (resolve = settle));
    this.#resolve = resolve;
    this.#timer = startTimeout(() => this.finish(), options.timeoutMs);
    if (this.#waitingFor?.size === 0) this.finish();
  }

  /** An answer from `from`: its value, or its error. */
  take(from: string, ok: boolean, outcome: unknown): void {
    if (this.#values.has(from) || this.#errors.has(from)) return;
    if (ok) this.#values.set(from, outcome as T);
    else this.#errors.set(from, outcome instanceof Error ? outcome : new Error(String(outcome)));
    this.#waitingFor?.delete(from);
    if (this.#waitingFor?.size === 0) this.finish();
  }

  finish(): void {
    stopTimeout(this.#timer);
    this.#done();
    this.#resolve({
      values: Object.fromEntries(this.#values) as Record<string, T>,
      errors: Object.fromEntries(this.#errors),
      missing: [...(this.#waitingFor ?? [])],
    });
  }
}
