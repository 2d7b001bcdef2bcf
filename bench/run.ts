/**
 * npm run bench                       every scenario
 * npm run bench -- ports comlink      those scenarios (or groups, e.g. baselines)
 * npm run bench -- --quick            a smoke run, well under a minute
 * npm run bench -- curves             cost against agents and message size (--max-agents N caps it)
 * npm run bench -- add --packed       against the packed npm package instead of the source tree
 * npm run bench -- --report           rewrite bench/results/report.html from the results there
 * npm run bench -- --list             what there is
 */
import { parseArgs, USAGE } from "./lib/args.js";
import { writeHtmlReport } from "./lib/html-report.js";
import { packedEntry } from "./lib/library.js";
import { runPacked } from "./lib/packed.js";
import { RUN_DEFAULTS, runScenarios } from "./lib/runner.js";
import { scenarios } from "./scenarios/index.js";

/** How long the process may linger after the last scenario before it is called a leak. */
const LINGER_MS = 2000;

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  if (args.list) {
    for (const s of scenarios) console.log(`${s.name.padEnd(12)} ${s.group ?? ""}`.padEnd(24) + s.description);
    return 0;
  }
  if (args.report) {
    const dir = args.out ?? (args.quick ? RUN_DEFAULTS.quickOut : RUN_DEFAULTS.out);
    console.log(await writeHtmlReport(dir, scenarios.map((scenario) => scenario.name)));
    return 0;
  }
  // The same command line again, in a process whose "agentspace" is the installed package.
  if (args.packed && packedEntry() === undefined) return runPacked(process.argv.slice(2));
  const results = await runScenarios({
    scenarios,
    names: args.names,
    quick: args.quick,
    ...(args.runs === undefined ? {} : { runs: args.runs }),
    ...(args.maxAgents === undefined ? {} : { maxAgents: args.maxAgents }),
    ...(args.out === undefined ? {} : { out: args.out }),
  });
  return results.some((result) => result.error !== undefined) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // A scenario that leaves a worker or socket open would keep the process
    // alive for ever; say so and leave instead of hanging the caller.
    setTimeout(() => {
      const open = new Map<string, number>();
      for (const kind of process.getActiveResourcesInfo()) open.set(kind, (open.get(kind) ?? 0) + 1);
      const named = [...open].map(([kind, count]) => (count === 1 ? kind : `${kind} ×${count}`)).join(", ");
      console.error(`bench: handles still open after the last scenario (a scenario leaks: ${named}); exiting`);
      process.exit(code);
    }, LINGER_MS).unref();
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
