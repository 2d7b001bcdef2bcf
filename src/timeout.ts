// setTimeout takes at most 2^31 − 1 ms (about 24.8 days) and fires at once
// past it: longer waits are made of several timers in a row.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `ms` as a timeout: a number of milliseconds from 0 up, or `Infinity` for
 * none. Anything else (negative, NaN, not a number) is a RangeError naming
 * `what`, never a timer that fires at once.
 */
export function checkTimeoutMs(ms: unknown, what: string): number {
  if (typeof ms !== "number" || Number.isNaN(ms) || ms < 0) {
    throw new RangeError(`${what} must be a number of milliseconds from 0 up, or Infinity, not ${String(ms)}`);
  }
  return ms;
}

/** A wait longer than one timer can hold: timers in a row until it is due. */
class LongTimeout {
  #timer: NodeJS.Timeout | undefined;
  #due: number;
  #callback: () => void;

  constructor(callback: () => void, ms: number) {
    this.#callback = callback;
    this.#due = Date.now() + ms;
    this.#arm(ms);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }

  #arm(left: number): void {
    this.#timer = setTimeout(() => {
      const rest = this.#due - Date.now();
      if (rest > 0) this.#arm(rest);
      else this.#callback();
    }, Math.min(left, MAX_TIMER_MS));
  }
}

/** A pending timeout: stop it with `stopTimeout`. */
export type Timeout = NodeJS.Timeout | LongTimeout | undefined;

/**
 * Calls `callback` once `ms` have passed, however long that is; never for
 * `Infinity`. A plain timer when one can hold the wait: this runs for every
 * request, and a wrapper costs about a microsecond there.
 */
export function startTimeout(callback: () => void, ms: number): Timeout {
  if (!Number.isFinite(ms)) return undefined;
  return ms <= MAX_TIMER_MS ? setTimeout(callback, ms) : new LongTimeout(callback, ms);
}

export function stopTimeout(timeout: Timeout): void {
  if (timeout instanceof LongTimeout) timeout.clear();
  else if (timeout !== undefined) clearTimeout(timeout);
}
