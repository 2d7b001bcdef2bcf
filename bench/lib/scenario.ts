/**
 * The contract between the runner and a scenario. To add a scenario, write a
 * module that exports a `Scenario` and add it to the list in
 * `bench/scenarios/index.ts`.
 */

export type Unit = "msg/s" | "calls/s" | "tasks/s" | "ids/s" | "round trips/s" | "hops/s" | "actors/s" | "µs" | "ms" | "MB" | "B" | "×";

/** What a figure is, before it is measured. */
export interface FigureSpec {
  /** Stable within its scenario; elsewhere the figure is named "<scenario>/<key>". */
  key: string;
  /** What was measured, for the table. */
  label: string;
  unit: Unit;
  /**
   * The baseline this figure is compared with: a key of the same scenario, or
   * "<scenario>/<key>" of another one (list that scenario in `needs`, so it
   * runs first in the same run). The runner sets `ratio` = median / baseline median.
   */
  vs?: string;
  /** A point of a curve: the report draws the figures of one chart as lines against `x`. */
  curve?: CurvePlace;
}

/** Where a figure sits on a curve. */
export interface CurvePlace {
  /** The chart's title; figures with the same one are drawn together. */
  chart: string;
  /** The line it belongs to: "ours", or the raw baseline's name. */
  series: string;
  x: number;
  /** What x counts, for the axis: "agents", "bytes". */
  xLabel: string;
}

/** A measured figure: the median of the runs, and how far the runs spread. */
export interface Figure extends FigureSpec {
  median: number;
  min: number;
  max: number;
  /** Latency figures: the median, over runs, of each run's p99. */
  p99?: number;
  /** The value each run gave (for latencies: each run's p50). */
  runs: number[];
  /** median / the `vs` figure's median, when that figure was measured in this run. */
  ratio?: number;
}

/**
 * A goal a figure must reach (the project's performance targets). The runner checks it once
 * every ratio is known and prints the verdict under the table.
 */
export interface TargetSpec {
  /** The figure checked: a key of the same scenario. */
  figure: string;
  /** The goal in words, as printed. */
  text: string;
  /** What is compared: the figure's median, or its ratio to its `vs` baseline. */
  of: "median" | "ratio";
  atLeast?: number;
  atMost?: number;
}

/** A target after the run: `met` is undefined when the figure (or its baseline) was not measured. */
export interface Verdict extends TargetSpec {
  value?: number;
  met?: boolean;
}

/** How a figure's runs are repeated. */
export interface RepeatOptions {
  /** Untimed runs before the timed ones (default 1; none with --quick): a run of a few milliseconds needs several before the JIT has settled. */
  warmups?: number;
}

/** What one timed run of a throughput figure reports. */
export interface Count {
  count: number;
  ns: number;
}

export interface Context {
  /** A short smoke run: one run per figure, no warm-up, small sizes. */
  readonly quick: boolean;
  /** Timed runs per figure (5 by default, 1 with --quick). */
  readonly runs: number;
  /** The most agents a scenario may put in one space (`--max-agents`); unset: its own sizes. */
  readonly maxAgents?: number;
  /** `full`, or `quick` in a quick run: the one place sizes are chosen. */
  size(full: number, quick: number): number;
  /** Runs `once` (warm-up, then `runs` times) and records count/s. */
  throughput(spec: FigureSpec, once: () => Promise<Count>, options?: RepeatOptions): Promise<Figure>;
  /** Runs `once`, which returns one run's samples in ns; records p50 and p99 in µs. */
  latency(spec: FigureSpec, once: () => Promise<readonly number[]>): Promise<Figure>;
  /** Runs `once` and returns each run's result, for runs that yield several figures. */
  repeat<T>(label: string, once: () => Promise<T>, options?: RepeatOptions): Promise<T[]>;
  /** Records a throughput figure (count/s) from each run's count and time, for runs that yield several. */
  recordThroughput(spec: FigureSpec, counts: readonly Count[]): Figure;
  /** Records a latency figure from each run's samples in ns (p50 and p99 in µs), for runs that yield several. */
  recordLatency(spec: FigureSpec, samples: readonly (readonly number[])[]): Figure;
  /** Records a figure from per-run values (and optionally per-run p99s). */
  record(spec: FigureSpec, runs: readonly number[], p99s?: readonly number[]): Figure;
  /** A remark printed under the table and kept in the JSON. */
  note(text: string): void;
  /** A goal for one of this scenario's figures; its verdict is printed under the table. */
  target(spec: TargetSpec): void;
}

export interface Scenario {
  /** What `npm run bench -- <name>` selects; also the results file name. */
  name: string;
  description: string;
  /** A name that selects several scenarios at once, e.g. "baselines". */
  group?: string;
  /** Scenarios whose figures this one's `vs` names; they run first. */
  needs?: string[];
  run(ctx: Context): Promise<void>;
}
