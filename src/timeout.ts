// setTimeout takes at most 2^31 − 1 ms (about 24.8 days) and fires at once
// past it: longer waits are made of several timers in a row.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A pending timeout; `clear` cancels it. */
export interface Timeout {
  clear(): void;
}

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

/** Calls `callback` once `ms` have passed, however long that is; never for `Infinity`. */
export function startTimeout(callback: () => void, ms: number): Timeout {
  let timer: NodeJS.Timeout | undefined;
  const due = Date.now() + ms;
  const arm = (left: number) => {
    timer = setTimeout(() => {
      const rest = due - Date.now();
      if (rest > 0) arm(rest);
      else callback();
    }, Math.min(left, MAX_TIMER_MS));
  };
  if (Number.isFinite(ms)) arm(ms);
  return { clear: () => clearTimeout(timer) };
}
