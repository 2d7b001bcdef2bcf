/**
 * The benchmark clock. `process.hrtime.bigint()` is monotonic and has
 * nanosecond resolution; `Date.now()` and `performance.now()` are too coarse
 * or too slow for round trips of tens of microseconds.
 */
export const now = (): bigint => process.hrtime.bigint();

/** Nanoseconds since `start`, as a number (exact below 2^53 ns, i.e. ~104 days). */
export const nsSince = (start: bigint): number => Number(process.hrtime.bigint() - start);

export const NS_PER_US = 1e3;
export const NS_PER_MS = 1e6;
export const NS_PER_S = 1e9;
