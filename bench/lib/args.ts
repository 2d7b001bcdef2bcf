/** The command line of bench/run.ts. */

export interface BenchArgs {
  /** Scenario or group names; empty means every scenario. */
  names: string[];
  quick: boolean;
  /** Timed runs per figure, when given with --runs. */
  runs?: number;
  /** The most agents in one space, when given with --max-agents. */
  maxAgents?: number;
  /** Where results go, when given with --out. */
  out?: string;
  list: boolean;
  /** Only write report.html from the results already there. */
  report: boolean;
  /** Measure the packed npm package instead of the source tree. */
  packed: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench [-- [names…] [--quick] [--runs N] [--max-agents N] [--out DIR] [--packed] [--report] [--list]]

  names     scenarios or groups to run (default: all)
  --quick   smoke run: 1 run per figure, no warm-up, small sizes
  --runs N  timed runs per figure (default 5; 1 with --quick)
  --max-agents N  the most agents a scenario puts in one space (curves: 100,000 by default; --quick: 1 and 1,000)
  --out DIR where the JSON results go (default bench/results, or bench/results/quick with --quick)
  --packed  measure the library as npm installs it: npm pack, install the tarball in a temp project, run against that
  --report  only write report.html from the results already in the results directory
  --list    list the scenarios and exit`;

export function parseArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { names: [], quick: false, list: false, report: false, packed: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") args.quick = true;
    else if (arg === "--list") args.list = true;
    else if (arg === "--report") args.report = true;
    else if (arg === "--packed") args.packed = true;
    else if (arg === "--help" || arg === "-h") args.help = true;
    else if (arg === "--runs") args.runs = positiveInteger(argv[++i], "--runs");
    else if (arg === "--max-agents") args.maxAgents = positiveInteger(argv[++i], "--max-agents");
    else if (arg === "--out") args.out = required(argv[++i], "--out");
    else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}\n\n${USAGE}`);
    else args.names.push(arg);
  }
  return args;
}

function required(value: string | undefined, option: string): string {
  if (value === undefined) throw new Error(`${option} needs a value`);
  return value;
}

function positiveInteger(value: string | undefined, option: string): number {
  const number = Number(required(value, option));
  if (!Number.isInteger(number) || number < 1) throw new Error(`${option} needs a positive integer`);
  return number;
}
