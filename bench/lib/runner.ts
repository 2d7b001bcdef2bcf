/** Runs scenarios one after another: measure, compare with baselines, print, save. */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ScenarioContext } from "./context.js";
import { writeHtmlReport } from "./html-report.js";
import { describeMachine, machineInfo } from "./machine.js";
import { progressBar } from "./progress.js";
import { applyRatios } from "./ratios.js";
import { renderFigures } from "./report.js";
import { writeResult, type ScenarioResult } from "./results.js";
import type { Figure, Scenario } from "./scenario.js";
import { selectScenarios } from "./select.js";
import { judge, renderVerdict } from "./targets.js";

export interface RunOptions {
  scenarios: readonly Scenario[];
  /** Scenario or group names; empty runs all. */
  names?: readonly string[];
  quick?: boolean;
  runs?: number;
  /** The most agents in one space (see Context.maxAgents). */
  maxAgents?: number;
  /** Directory for the JSON results. */
  out?: string;
  /** Where tables go (stdout by default). */
  print?: (text: string) => void;
}

const RESULTS_DIR = fileURLToPath(new URL("../results", import.meta.url));

export const RUN_DEFAULTS = {
  /** Five runs: enough for a median that one noisy run cannot move. */
  runs: 5,
  quickRuns: 1,
  out: RESULTS_DIR,
  /** A quick run must not overwrite the real figures. */
  quickOut: path.join(RESULTS_DIR, "quick"),
};

export async function runScenarios(options: RunOptions): Promise<ScenarioResult[]> {
  const quick = options.quick ?? false;
  const runs = options.runs ?? (quick ? RUN_DEFAULTS.quickRuns : RUN_DEFAULTS.runs);
  const out = options.out ?? (quick ? RUN_DEFAULTS.quickOut : RUN_DEFAULTS.out);
  const print = options.print ?? ((text: string) => process.stdout.write(`${text}\n`));
  const progress = progressBar();
  const measured = new Map<string, Figure>();
  const results: ScenarioResult[] = [];

  for (const scenario of selectScenarios(options.scenarios, options.names ?? [])) {
    const machine = machineInfo();
    const ctx = new ScenarioContext(scenario.name, {
      quick,
      runs,
      progress,
      ...(options.maxAgents === undefined ? {} : { maxAgents: options.maxAgents }),
    });
    const started = Date.now();
    let error: string | undefined;
    try {
      await scenario.run(ctx);
    } catch (thrown) {
      error = thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
    }
    for (const figure of ctx.figures) measured.set(`${scenario.name}/${figure.key}`, figure);
    applyRatios(scenario.name, ctx.figures, measured);
    const result: ScenarioResult = {
      scenario: scenario.name,
      description: scenario.description,
      quick,
      runsPerFigure: runs,
      machine,
      durationMs: Date.now() - started,
      figures: ctx.figures,
      notes: ctx.notes,
      targets: judge(ctx.targets, ctx.figures),
      ...(error === undefined ? {} : { error }),
    };
    const file = await writeResult(out, result);
    print(renderResult(result, path.relative(process.cwd(), file)));
    results.push(result);
  }
  const report = await writeHtmlReport(out, options.scenarios.map((scenario) => scenario.name));
  print(`report: ${path.relative(process.cwd(), report)} (every result in ${path.relative(process.cwd(), out) || "."})`);
  return results;
}

function renderResult(result: ScenarioResult, file: string): string {
  const seconds = (result.durationMs / 1000).toFixed(1);
  const lines = [
    `## ${result.scenario}: ${result.description}`,
    `${describeMachine(result.machine)}; ${result.runsPerFigure} run(s) per figure${result.quick ? ", quick" : ""}; ${seconds}s`,
    "",
  ];
  if (result.figures.length > 0) lines.push(renderFigures(result.figures));
  for (const note of result.notes) lines.push(`note: ${note}`);
  for (const verdict of result.targets) lines.push(renderVerdict(verdict, result.quick));
  if (result.error !== undefined) lines.push(`FAILED: ${result.error}`);
  lines.push(`→ ${file}`, "");
  return lines.join("\n");
}
