/** Which scenarios a command line names, in an order where each runs after the ones it needs. */
import type { Scenario } from "./scenario.js";

export function selectScenarios(all: readonly Scenario[], names: readonly string[]): Scenario[] {
  const byName = new Map(all.map((scenario) => [scenario.name, scenario]));
  const wanted = names.length === 0 ? [...all] : names.flatMap((name) => matching(all, name));
  const ordered: Scenario[] = [];
  const visit = (scenario: Scenario) => {
    if (ordered.includes(scenario)) return;
    for (const need of scenario.needs ?? []) {
      const needed = byName.get(need);
      if (needed === undefined) throw new Error(`scenario ${scenario.name} needs unknown scenario ${need}`);
      visit(needed);
    }
    ordered.push(scenario);
  };
  // Registry order, so that a run of everything reads in the order of the list.
  for (const scenario of all) if (wanted.includes(scenario)) visit(scenario);
  return ordered;
}

function matching(all: readonly Scenario[], name: string): Scenario[] {
  const found = all.filter((scenario) => scenario.name === name || scenario.group === name);
  if (found.length === 0) {
    const known = [...new Set(all.flatMap((s) => (s.group ? [s.name, s.group] : [s.name])))];
    throw new Error(`no scenario or group named "${name}"; known: ${known.join(", ")}`);
  }
  return found;
}
