/** The Context a scenario measures through: repetition, warm-up, statistics, progress. */
import { NS_PER_S, NS_PER_US } from "./clock.js";
import type { Progress } from "./progress.js";
import type { Context, Count, Figure, FigureSpec, RepeatOptions, TargetSpec } from "./scenario.js";
import { ascending, median, percentile, spread } from "./stats.js";

export interface ContextOptions {
  quick: boolean;
  runs: number;
  maxAgents?: number;
  progress: Progress;
}

export class ScenarioContext implements Context {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];
  readonly targets: TargetSpec[] = [];
  readonly quick: boolean;
  readonly runs: number;
  readonly maxAgents?: number;
  readonly #progress: Progress;

  constructor(readonly scenario: string, options: ContextOptions) {
    this.quick = options.quick;
    this.runs = options.runs;
    if (options.maxAgents !== undefined) this.maxAgents = options.maxAgents;
    this.#progress = options.progress;
  }

  size(full: number, quick: number): number {
    return this.quick ? quick : full;
  }

  async repeat<T>(label: string, once: () => Promise<T>, options: RepeatOptions = {}): Promise<T[]> {
    // Untimed runs first (one unless told): JIT, worker start-up and lazy
    // allocation would otherwise all land in the first timed runs. A quick run skips them.
    const warmups = this.quick ? 0 : (options.warmups ?? 1);
    const results: T[] = [];
    this.#progress.begin(`${this.scenario}: ${label}`, warmups + this.runs);
    try {
      for (let i = 0; i < warmups + this.runs; i++) {
        const result = await once();
        if (i >= warmups) results.push(result);
        this.#progress.step();
      }
    } finally {
      this.#progress.end();
    }
    return results;
  }

  async throughput(spec: FigureSpec, once: () => Promise<Count>, options?: RepeatOptions): Promise<Figure> {
    return this.recordThroughput(spec, await this.repeat(spec.label, once, options));
  }

  recordThroughput(spec: FigureSpec, counts: readonly Count[]): Figure {
    return this.record(spec, counts.map(({ count, ns }) => (count * NS_PER_S) / ns));
  }

  async latency(spec: FigureSpec, once: () => Promise<readonly number[]>): Promise<Figure> {
    return this.recordLatency(spec, await this.repeat(spec.label, once));
  }

  recordLatency(spec: FigureSpec, samples: readonly (readonly number[])[]): Figure {
    const sorted = samples.map(ascending);
    return this.record(
      spec,
      sorted.map((run) => percentile(run, 50) / NS_PER_US),
      sorted.map((run) => percentile(run, 99) / NS_PER_US),
    );
  }

  record(spec: FigureSpec, runs: readonly number[], p99s?: readonly number[]): Figure {
    const figure: Figure = { ...spec, ...spread(runs), runs: [...runs] };
    if (p99s !== undefined && p99s.length > 0) figure.p99 = median(p99s);
    this.figures.push(figure);
    return figure;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  target(spec: TargetSpec): void {
    this.targets.push(spec);
  }
}
