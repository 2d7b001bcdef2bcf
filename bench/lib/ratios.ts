/** Ratios of figures to named baselines measured in the same run. */
import type { Figure } from "./scenario.js";

/** "key" names a figure of the same scenario; "scenario/key" one of any scenario. */
export function qualify(scenario: string, ref: string): string {
  return ref.includes("/") ? ref : `${scenario}/${ref}`;
}

/** Sets `ratio` on each figure whose baseline is among `measured` (keyed "scenario/key"). */
export function applyRatios(scenario: string, figures: Figure[], measured: ReadonlyMap<string, Figure>): void {
  for (const figure of figures) {
    if (figure.vs === undefined) continue;
    const baseline = measured.get(qualify(scenario, figure.vs));
    if (baseline !== undefined && baseline.median !== 0) figure.ratio = figure.median / baseline.median;
  }
}
