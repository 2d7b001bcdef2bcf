/** The benchmark's targets: checked against the figures of one run, printed as met or missed. */
import { formatNumber } from "./report.js";
import type { Figure, TargetSpec, Verdict } from "./scenario.js";

/** Checks each target against the figures (ratios already applied). */
export function judge(targets: readonly TargetSpec[], figures: readonly Figure[]): Verdict[] {
  return targets.map((target) => {
    const figure = figures.find((f) => f.key === target.figure);
    const value = figure === undefined ? undefined : target.of === "ratio" ? figure.ratio : figure.median;
    if (value === undefined) return { ...target };
    const met = (target.atLeast === undefined || value >= target.atLeast) && (target.atMost === undefined || value <= target.atMost);
    return { ...target, value, met };
  });
}

/** One target's line; a quick run shows the figure beside its bound but judges nothing (one small run cannot). */
export function renderVerdict(verdict: Verdict, quick = false): string {
  if (verdict.met === undefined) return `target: ${verdict.text}: not measured in this run`;
  const shown = verdict.of === "ratio" ? `${verdict.value!.toFixed(2)}×` : formatNumber(verdict.value!);
  const bound =
    verdict.atLeast !== undefined ? `≥ ${formatBound(verdict.atLeast, verdict.of)}` : `≤ ${formatBound(verdict.atMost!, verdict.of)}`;
  const said = quick ? "not judged: a quick run is one small run" : verdict.met ? "met" : "MISSED";
  return `target: ${verdict.text}: ${said} (${verdict.figure} = ${shown}, needs ${bound})`;
}

function formatBound(value: number, of: TargetSpec["of"]): string {
  return of === "ratio" ? `${value.toFixed(2)}×` : formatNumber(value);
}
