/** One JSON file per scenario: `<dir>/<scenario>.json`. */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { MachineInfo } from "./machine.js";
import type { Figure, Verdict } from "./scenario.js";

export interface ScenarioResult {
  scenario: string;
  description: string;
  quick: boolean;
  runsPerFigure: number;
  machine: MachineInfo;
  durationMs: number;
  figures: Figure[];
  notes: string[];
  /** The targets for this scenario's figures, met or missed. */
  targets: Verdict[];
  /** Set when the scenario threw; the figures measured before that are kept. */
  error?: string;
}

export async function writeResult(dir: string, result: ScenarioResult): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${result.scenario}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}
