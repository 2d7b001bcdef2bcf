/** Measuring a space's figure against its baseline, whichever form the baseline takes (SpaceKind.baselines). */
import { alternate } from "./alternate.js";
import type { Rig } from "./rig.js";
import type { Context, Count, FigureSpec } from "./scenario.js";
import type { Baseline } from "./spaces.js";

type Recorder<T> = (spec: FigureSpec, runs: readonly T[]) => void;

/**
 * Records `spec` from `ours`, divided by `baseline`: a raw rig is measured in
 * alternate runs with ours and recorded first, as `<spec.key>-raw`; a figure
 * name is only referred to.
 */
async function measureAgainst<T>(
  ctx: Context,
  spec: FigureSpec,
  size: number,
  ours: () => Promise<Rig<T>>,
  baseline: Baseline<T> | undefined,
  record: Recorder<T>,
): Promise<void> {
  if (typeof baseline !== "object") {
    const { ours: runs } = await alternate(ctx, spec.label, ours);
    record(baseline === undefined ? spec : { ...spec, vs: baseline }, runs);
    return;
  }
  const rawKey = `${spec.key}-raw`;
  const { ours: runs, raw } = await alternate(ctx, spec.label, ours, () => baseline.rig(size));
  record({ key: rawKey, label: baseline.label, unit: spec.unit }, raw);
  record({ ...spec, vs: rawKey }, runs);
}

export function throughputAgainst(ctx: Context, spec: FigureSpec, n: number, ours: () => Promise<Rig<Count>>, baseline?: Baseline<Count>) {
  return measureAgainst(ctx, spec, n, ours, baseline, (s, runs) => ctx.recordThroughput(s, runs));
}

export function latencyAgainst(ctx: Context, spec: FigureSpec, k: number, ours: () => Promise<Rig<number[]>>, baseline?: Baseline<number[]>) {
  return measureAgainst(ctx, spec, k, ours, baseline, (s, runs) => ctx.recordLatency(s, runs));
}
