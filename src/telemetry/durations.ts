/**
 * How long actions take, per agent class and action: the histogram behind
 * `agentspace_action_duration_seconds`, kept by each host for its own
 * agents and read by the space when metrics are asked for. Timing costs two
 * clock reads per action (about 0.2 µs here), so a host times only once
 * the space says so (`metrics: true`, or the first `metrics()`/`serveMetrics()`).
 */

/** Upper bounds in seconds: agents' actions run from microseconds to seconds. */
export const DURATION_BUCKETS: readonly number[] = [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
const SUM = DURATION_BUCKETS.length + 1;
const COUNT = SUM + 1;

/** One class and action's histogram, as it crosses to the main thread: counts per bucket (not cumulative; the last is +Inf), sum and count. */
export interface DurationRow {
  agentClass: string;
  action: string;
  buckets: number[];
  sum: number;
  count: number;
}

/** The durations of one class's actions in one host. */
export class ClassDurations {
  /** Per action: a count per bucket (the last past every bound), then the sum, then the count. */
  readonly actions = new Map<string, Float64Array>();

  /** One run of `action`, begun at `startedMs` (performance.now()) and over now. */
  recordSince(action: string, startedMs: number): void {
    this.record(action, (performance.now() - startedMs) / 1000);
  }

  /** `seconds` spent in one run of `action`. */
  record(action: string, seconds: number): void {
    let values = this.actions.get(action);
    if (!values) this.actions.set(action, (values = new Float64Array(COUNT + 1)));
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]!) bucket++;
    values[bucket]!++;
    values[SUM]! += seconds;
    values[COUNT]!++;
  }
}

/** One host's durations, by class; `timing` false until the space asks for them. */
export class HostDurations {
  timing: boolean;
  readonly #classes = new Map<string, ClassDurations>();

  constructor(timing = false) {
    this.timing = timing;
  }

  /** Where `agentClass`'s durations go (made on first use). */
  of(agentClass: string): ClassDurations {
    let durations = this.#classes.get(agentClass);
    if (!durations) this.#classes.set(agentClass, (durations = new ClassDurations()));
    return durations;
  }

  rows(): DurationRow[] {
    const rows: DurationRow[] = [];
    for (const [agentClass, durations] of this.#classes) {
      for (const [action, values] of durations.actions) {
        rows.push({ agentClass, action, buckets: Array.from(values.subarray(0, SUM)), sum: values[SUM]!, count: values[COUNT]! });
      }
    }
    return rows;
  }
}

/** `rows` added into `into`, row by row (same class and action: summed). */
export function addRows(into: Map<string, DurationRow>, rows: Iterable<DurationRow>): void {
  for (const row of rows) {
    const key = `${row.agentClass}\0${row.action}`;
    const kept = into.get(key);
    if (!kept) {
      into.set(key, { ...row, buckets: [...row.buckets] });
      continue;
    }
    for (let i = 0; i < kept.buckets.length; i++) kept.buckets[i]! += row.buckets[i] ?? 0;
    kept.sum += row.sum;
    kept.count += row.count;
  }
}

const MAX_NAME = 1_000;

/** Why `value`, which came from another thread, is not a list of DurationRows, or undefined. */
export function durationRowsProblem(value: unknown): string | undefined {
  if (!Array.isArray(value)) return "durations must be an array";
  for (const row of value as unknown[]) {
    if (typeof row !== "object" || row === null) return "a duration row must be an object";
    const { agentClass, action, buckets, sum, count } = row as Record<string, unknown>;
    if (typeof agentClass !== "string" || agentClass.length > MAX_NAME) return "a duration row's agentClass must be a string";
    if (typeof action !== "string" || action.length > MAX_NAME) return "a duration row's action must be a string";
    if (!Array.isArray(buckets) || buckets.length !== DURATION_BUCKETS.length + 1 || !buckets.every(isCount)) {
      return `a duration row's buckets must be ${DURATION_BUCKETS.length + 1} counts`;
    }
    if (!isCount(sum) || !isCount(count)) return "a duration row's sum and count must be non-negative numbers";
  }
  return undefined;
}

function isCount(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
