/**
 * The `agentspace` command: which subcommand, with which options.
 *
 *   agentspace repl [module…] [--space multiprocess|local] [--no-debug] [--inspect]
 *   agentspace run <module> [args…] [--space multiprocess|local] [--debug] [--inspect]
 */
import { parseArgs } from "node:util";
import { ModuleLoadError } from "./load-module.js";
import { startRepl } from "./repl.js";
import { RunError, runModule } from "./run.js";
import { isSpaceKind, spaceKinds, type SpaceKind } from "./space-kind.js";

const usage = `agentspace: agents that talk only through messages

Usage:
  agentspace repl [module…] [--space multiprocess|local] [--no-debug] [--inspect]
  agentspace run <module> [args…] [--space multiprocess|local] [--debug] [--inspect]
  agentspace --help

Commands:
  repl   A Node REPL with \`space\`, \`me\` (a foreground agent) and the agent
         classes the modules export in scope. Top-level await, tab completion
         of agent ids and action names, and the commands .agents, .help <id>,
         .trace on|off and .inspect. Ctrl-D destroys the space and quits.
  run    Imports <module>, calls its exported main(space, args), then
         destroys the space. Exits with 1 if main is missing or throws.

Options:
  --space <kind>  multiprocess: each agent in its own worker thread (default)
                  local: every agent in this thread
  --no-debug      repl: keep the inspect and eval actions closed (open by default)
  --debug         run: open the inspect and eval actions (closed by default)
  --inspect       open the inspector, a live web page of the space, and print
                  its address (http://127.0.0.1:PORT/?token=…)
  -h, --help      Print this help

Modules are TypeScript or JavaScript files, used as they are: no build step.
`;

/** Exit codes: a failure of the user's code, and a command line that makes no sense. */
const failed = 1;
const misused = 2;

/** A command line that cannot be carried out as written. */
class UsageError extends Error {}

const commands = ["repl", "run"] as const;
type Command = (typeof commands)[number];

interface Invocation {
  command: Command;
  positionals: string[];
  space: SpaceKind;
  debug: boolean | undefined;
  inspect: boolean;
}

/** The invocation `argv` asks for, or undefined for help. */
function parse(argv: string[]): Invocation | undefined {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        space: { type: "string" },
        debug: { type: "boolean" },
        "no-debug": { type: "boolean" },
        inspect: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === "help") return undefined;
  if (!(commands as readonly string[]).includes(command)) throw new UsageError(`unknown command "${command}"`);
  const space = values.space ?? "multiprocess";
  if (!isSpaceKind(space)) throw new UsageError(`--space takes ${spaceKinds.join(" or ")}, not "${space}"`);
  if (values.debug && values["no-debug"]) throw new UsageError("--debug and --no-debug contradict each other");
  if (command === "run" && rest.length === 0) throw new UsageError("run needs a module: agentspace run <module>");
  const debug = values.debug ? true : values["no-debug"] ? false : undefined;
  return { command: command as Command, positionals: rest, space, debug, inspect: values.inspect === true };
}

/** Runs the command line; resolves with the exit code once the command is over. */
async function main(argv: string[]): Promise<number> {
  let invocation: Invocation | undefined;
  try {
    invocation = parse(argv);
  } catch (error) {
    console.error(`agentspace: ${(error as Error).message}\nRun agentspace --help for usage.`);
    return misused;
  }
  if (!invocation) {
    process.stdout.write(usage);
    return 0;
  }
  const { command, positionals, space, debug, inspect } = invocation;
  try {
    if (command === "repl") {
      const session = await startRepl({ modules: positionals, space, inspect, ...(debug === undefined ? {} : { debug }) });
      await session.closed;
    } else {
      const [module, ...args] = positionals;
      await runModule(module!, { space, args, inspect, ...(debug === undefined ? {} : { debug }) });
    }
    return 0;
  } catch (error) {
    // Ours say all there is to say; anything else (a module that throws as it loads) keeps its stack.
    const known = error instanceof RunError || error instanceof ModuleLoadError;
    console.error(`agentspace ${command}: ${known ? error.message : ((error as Error).stack ?? String(error))}`);
    return failed;
  }
}

// Stack traces through a user's module point at its source, not at its bundle.
process.setSourceMapsEnabled(true);
process.exitCode = await main(process.argv.slice(2));
