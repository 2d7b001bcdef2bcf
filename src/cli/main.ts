#!/usr/bin/env node
/**
 * The `agentspace` command: which subcommand, with which options.
 *
 *   agentspace repl [module…] [--space multiprocess|local] [--no-debug] [--inspect] [--watch]
 *   agentspace run <module> [args…] [--space multiprocess|local] [--debug] [--inspect]
 *   agentspace node <module…> --redis <url> --namespace <ns> --name <name> --capacity <n>
 *   agentspace nodes --redis <url> --namespace <ns>
 *   agentspace exchange [--port <n>] [--redis <url>] [--auth <tokens.json>] [--tls-cert f --tls-key f]
 */
import { parseArgs } from "node:util";
import { AgentspaceError } from "../index.js";
import { TokensFileError } from "../exchange/index.js";
import { ExchangeUsageError, exchangeUsage, runExchange } from "./exchange.js";
import { ModuleLoadError } from "./load-module.js";
import { NodeUsageError, nodeUsage, runNode } from "./node.js";
import { listNodes, nodesUsage } from "./nodes.js";
import { startRepl } from "./repl.js";
import { RunError, runModule } from "./run.js";
import { isSpaceKind, parseThreads, spaceKinds, type SpaceKind, type Threads } from "./space-kind.js";

const usage = `agentspace: agents that talk only through messages

Usage:
  agentspace repl [module…] [--space multiprocess|local] [--threads <n>|auto] [--no-debug] [--inspect] [--watch]
  agentspace run <module> [args…] [--space multiprocess|local] [--threads <n>|auto] [--debug] [--inspect]
  agentspace node <module…> [--redis <url>] [--namespace <ns>] [--name <name>] [--capacity <n>]
  agentspace nodes [--redis <url>] [--namespace <ns>]
  agentspace exchange [--port <n>] [--redis <url>] [--auth <tokens.json>] [--tls-cert f --tls-key f]
  agentspace --help

Commands:
  repl   A Node REPL with \`space\`, \`me\` (a foreground agent), Agent, action,
         loop, timer, sleep and the agent classes the modules export in scope.
         It takes TypeScript and decorators; classes typed into it run in
         workers too. Top-level await, tab completion of agent ids and action
         names, and the commands .agents [filter], .help <id>, .trace on|off, .inspect,
         .reload (running agents take their module's new code, keeping their
         state), .define <id> <name> <function source> and .history <file>.
         Piped input runs line after line. Ctrl-D destroys the space and quits.
  run    Imports <module>, calls its exported main(space, args), then
         destroys the space. Exits with 1 if main is missing or throws.
  node   Runs a node on Redis: offers the agent classes the modules export
         and hosts the agents a manager launches on it; SIGTERM drains it.
         agentspace node --help for its options.
  nodes  Prints a namespace's nodes and the agents placed on them.
  exchange  An HTTP exchange in Academy's protocol, for HttpSpace and Python
         Academy agents across firewalls. agentspace exchange --help for its options.

Options:
  --space <kind>  multiprocess: each agent in its own worker thread (default)
                  local: every agent in this thread
  --threads <n>   multiprocess: agents share n worker threads (auto: one per
                  core), for swarms of thousands; without it each has its own
  --no-debug      repl: keep the inspect and eval actions closed (open by default)
  --debug         run: open the inspect and eval actions (closed by default)
  --inspect       open the inspector, a live web page of the space, and print
                  its address (http://127.0.0.1:PORT/?token=…)
  --watch         repl: reload a module each time its file is saved
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
  watch: boolean;
  threads: Threads;
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
        watch: { type: "boolean" },
        threads: { type: "string" },
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
  if (values.watch && command !== "repl") throw new UsageError("--watch is for repl: agentspace repl <module…> --watch");
  if (command === "run" && rest.length === 0) throw new UsageError("run needs a module: agentspace run <module>");
  const debug = values.debug ? true : values["no-debug"] ? false : undefined;
  let threads: Threads;
  if (values.threads !== undefined) {
    if (space === "local") throw new UsageError("--threads is for a multiprocess space: a local one runs every agent in this thread");
    try {
      threads = parseThreads(values.threads);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return { command: command as Command, positionals: rest, space, debug, inspect: values.inspect === true, watch: values.watch === true, threads };
}

/** Runs the command line; resolves with the exit code once the command is over. */
async function main(argv: string[]): Promise<number> {
  if (argv[0] === "node" || argv[0] === "nodes" || argv[0] === "exchange") return nodeCommand(argv[0], argv.slice(1));
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
  const { command, positionals, space, debug, inspect, watch, threads } = invocation;
  try {
    if (command === "repl") {
      const session = await startRepl({ modules: positionals, space, inspect, watch, threads, ...(debug === undefined ? {} : { debug }) });
      await session.closed;
    } else {
      const [module, ...args] = positionals;
      await runModule(module!, { space, args, inspect, threads, ...(debug === undefined ? {} : { debug }) });
    }
    return 0;
  } catch (error) {
    // Ours say all there is to say; anything else (a module that throws as it loads) keeps its stack.
    const known = error instanceof RunError || error instanceof ModuleLoadError;
    console.error(`agentspace ${command}: ${known ? error.message : ((error as Error).stack ?? String(error))}`);
    return failed;
  }
}

const serviceCommands = {
  node: { usage: nodeUsage, run: runNode },
  nodes: { usage: nodesUsage, run: listNodes },
  exchange: { usage: exchangeUsage, run: runExchange },
};

/** `node`, `nodes` and `exchange`, which take options of their own (Redis, namespace, port). */
async function nodeCommand(command: keyof typeof serviceCommands, argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(serviceCommands[command].usage);
    return 0;
  }
  try {
    return await serviceCommands[command].run(argv);
  } catch (error) {
    const misuse = error instanceof NodeUsageError || error instanceof ExchangeUsageError || error instanceof TypeError || error instanceof RangeError;
    const known = misuse || error instanceof ModuleLoadError || error instanceof AgentspaceError || error instanceof TokensFileError;
    console.error(`agentspace ${command}: ${known ? (error as Error).message : String((error as Error).stack ?? error)}`);
    if (misuse) console.error(`Run agentspace ${command} --help for usage.`);
    return misuse ? misused : failed;
  }
}

// Stack traces through a user's module point at its source, not at its bundle.
process.setSourceMapsEnabled(true);
process.exitCode = await main(process.argv.slice(2));
