import { resolve } from "node:path";
import { clearLine, cursorTo, type AsyncCompleter } from "node:readline";
import { start, type REPLEval, type REPLServer } from "node:repl";
import type { Context } from "node:vm";
import * as agentspace from "../index.js";
import { Agent, LocalSpace, action, loop, sleep, timer, type AgentClass, type Handle, type RequestOptions, Space } from "../index.js";
import { paint, wantsColour } from "../colour.js";
import { defineCommands, openInspector } from "./commands.js";
import { SpaceCompleter } from "./completer.js";
import type { HistoryEntry } from "./history.js";
import { defineLiveCommands, watchModules, type LiveContext } from "./live-commands.js";
import { agentClassesOf, loadModule } from "./load-module.js";
import { LineGate } from "./line-gate.js";
import { ReplClasses } from "./repl-classes.js";
import { createSpace, type SpaceKind, type Threads } from "./space-kind.js";
import { takeWorkerOutput } from "../spaces/worker-output.js";
import { loadFileName, loadTranspiler } from "./transpile.js";

export interface ReplOptions {
  /** Agent modules (paths to .ts or .js files) whose exported agent classes go into scope. */
  modules?: string[];
  /** Where the agents run. */
  space?: SpaceKind;
  /** Opens the `inspect` and `eval` actions: a REPL is for looking inside agents. */
  debug?: boolean;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Line editing and tab completion; by default, whether `output` is a terminal. */
  terminal?: boolean;
  /** Opens the inspector (a live web page of the space) at start, as `.inspect` does. */
  inspect?: boolean;
  /** A multiprocess space's shared worker threads (a number, or "auto"); unset: one per agent. */
  threads?: Threads;
  /** Reloads a module each time its file is saved, as `.reload` does. */
  watch?: boolean;
}

export const replDefaults = {
  modules: [] as string[],
  space: "multiprocess" as SpaceKind,
  debug: true,
  input: process.stdin as NodeJS.ReadableStream,
  output: process.stdout as NodeJS.WritableStream,
};

export interface AgentspaceRepl {
  readonly server: REPLServer;
  readonly space: Space;
  /** Settles once the REPL has closed and its space is destroyed. */
  readonly closed: Promise<void>;
}

/** The names every session has; a module's class of the same name is left out. */
const sessionNames = ["space", "me", "agentspace", "Agent", "action", "loop", "timer", "sleep"];

/**
 * A Node REPL on a fresh space: `space`, `me` (a foreground agent), the
 * library as `agentspace` and the modules' agent classes in scope, top-level
 * `await`, tab completion of agent ids and action names, and the commands
 * `.agents`, `.help <id>`, `.trace on|off` and `.inspect`. Closing it (Ctrl-D, `.exit`)
 * destroys the space: no worker outlives the session.
 */
export async function startRepl(options: ReplOptions = {}): Promise<AgentspaceRepl> {
  const settings = { ...replDefaults, ...options };
  const { output, debug } = settings;
  const colour = wantsColour(output);
  const say = (line: string): void => void output.write(`${line}\n`);

  const { classes, files } = await loadAgentClasses(settings.modules, (warning) => say(paint(warning, "yellow", colour)));
  const space = createSpace(settings.space, debug, settings.threads);
  const me = await space.addForeground(Agent, "me");
  const handleIds = rememberHandleIds(space);
  const typedClasses = new ReplClasses(sessionNames, files);
  const transpile = await loadTranspiler();
  const unloadable = refuseUnloadable(space);

  const debugging = debug ? "debug: inspect and eval are open" : "no debug: inspect and eval are closed";
  say(`agentspace repl: ${space.constructor.name} (${debugging}); TypeScript and decorators welcome`);
  say(`in scope: ${[...sessionNames, ...classes.keys()].join(", ")}`);
  say(`commands: .agents, .help <id>, .trace on|off, .inspect, .reload, .define, .history <file>; Ctrl-D quits`);
  if (settings.inspect) say(`inspector: ${await openInspector(space)}`);
  if (settings.watch) say(`watching ${settings.modules.join(", ") || "no module"}: each save reloads it`);

  // Typed at a terminal, a line comes when the last is done; piped, they must be held back (see LineGate).
  const terminal = settings.terminal ?? (output as { isTTY?: boolean }).isTTY === true;
  const gate = terminal ? undefined : new LineGate(settings.input);
  const server = start({
    prompt: "agentspace> ",
    input: gate ?? settings.input,
    output,
    ...(settings.terminal === undefined ? {} : { terminal: settings.terminal }),
    useColors: colour,
    // The main context, not a vm context of its own: an object typed at the
    // prompt must be a plain Object of this realm, or messages refuse it.
    useGlobal: true,
    breakEvalOnSigint: true, // Ctrl-C gives up an `await` that does not come back
  });
  const library = { Agent, action, loop, timer, sleep };
  if (gate) {
    const display = server.displayPrompt.bind(server);
    server.displayPrompt = (preserveCursor?: boolean) => {
      display(preserveCursor);
      gate.release();
    };
  }
  const scope = (context: Context): void => {
    Object.assign(context, Object.fromEntries(classes), { space, me, agentspace, ...library, [loadFileName]: loadModule });
  };
  scope(server.context);
  server.on("reset", scope); // .clear makes a new context

  // Counts code being evaluated (an `await` can take a while), so that a line
  // arriving meanwhile is not followed by a prompt the REPL has not shown yet.
  let evaluating = 0;
  /** The work of the command running now, which the next input waits for. */
  let commandWork: Promise<unknown> | undefined;
  const busy = <T>(work: Promise<T>): Promise<T> => {
    evaluating++;
    commandWork = work;
    return work.finally(() => evaluating--);
  };
  const evaluate = server.eval;
  const history: HistoryEntry[] = [];
  /** Each input waits for the one before (its top-level await included): piped lines run in order. */
  let previous: Promise<unknown> = Promise.resolve();
  // A rejected top-level await goes to the REPL's domain, which prints it, instead of to the eval's callback.
  let failCurrent: ((error: unknown) => void) | undefined;
  (server as unknown as { _domain: NodeJS.EventEmitter })._domain.on("error", (error: unknown) => failCurrent?.(error));
  (server as { eval: REPLEval }).eval = function (code, context, file, callback) {
    let transpiled: ReturnType<typeof transpile>;
    try {
      transpiled = transpile(code);
    } catch (error) {
      return callback(error as Error, undefined); // Recoverable: the REPL reads the next line into this input
    }
    evaluating++;
    const typed = async (): Promise<unknown> => {
      const result = await new Promise((resolve, reject) => {
        failCurrent = (error) => reject(new Reported("printed by the REPL", { cause: error }));
        evaluate.call(this, transpiled.code, context, file, (error, value) => (error ? reject(error) : resolve(value)));
      }).finally(() => (failCurrent = undefined));
      history.push({ input: code.trim() });
      const modules = await typedClasses.evaluated(code, transpiled.classes, transpiled.imports);
      for (const [name, module] of modules) giveModule((context as Record<string, unknown>)[name], module, unloadable);
      return result;
    };
    const run = previous.then(typed);
    previous = run.catch(() => undefined);
    run.then(
      (result) => callback(null, result),
      (error: Error) => (error instanceof Reported ? undefined : callback(error, undefined)),
    ).finally(() => evaluating--);
  };
  /** Prints a line that arrives on its own (a trace, a crash), then puts back the prompt and what was typed. */
  const announce = (line: string): void => {
    if (!server.terminal || evaluating > 0) return say(line);
    clearLine(output, 0);
    cursorTo(output, 0);
    say(line);
    server.displayPrompt(true);
  };
  space.on("error", (error) => announce(paint(`space error: ${error.name}: ${error.message}`, "red", colour)));
  // What agents print in their threads comes on its own, like a trace line: above the prompt, not after it.
  const giveBackOutput = takeWorkerOutput((text) => {
    for (const line of text.replace(/\n$/, "").split("\n")) announce(line);
  });

  completeAgents(server, space, debug, (path) => evaluatePath(server, evaluate, path), handleIds);
  const current = (): Space => {
    const named: unknown = server.context.space;
    return named instanceof Space ? named : space;
  };
  const commands = { space, debug, colour, say, announce, busy, current };
  const stopTrace = defineCommands(server, commands);
  const live: LiveContext = {
    ...commands,
    modules: settings.modules,
    history,
    moduleClasses: files,
    rescope: (fresh) => {
      for (const [name, Cls] of fresh) if (classes.has(name)) classes.set(name, Cls);
      Object.assign(server.context, Object.fromEntries(fresh.entries()));
    },
  };
  defineLiveCommands(server, live);
  // Commands wait for the inputs before them, and the next input for them: a piped session runs in order.
  for (const command of Object.values(server.commands)) {
    if (!command) continue;
    const action = command.action;
    command.action = function (text) {
      const run = previous.then(() => {
        commandWork = undefined;
        action.call(this, text);
        return commandWork;
      });
      previous = run.catch(() => undefined);
    };
  }
  const stopWatching = settings.watch ? watchModules(live) : () => {};

  const closed = new Promise<void>((resolve, reject) => {
    server.once("exit", () => {
      stopTrace();
      giveBackOutput();
      stopWatching();
      // The end of piped input comes before its last lines have run: they finish first.
      previous
        .then(() => space.destroy())
        .then(() => typedClasses.dispose())
        .then(resolve, reject);
    });
  });
  return { server, space, closed };
}

/** An error the REPL has already printed (with a new prompt). */
class Reported extends Error {}

/** A class typed at the prompt, given the module a worker loads it from, or remembered as one no worker can load. */
function giveModule(Cls: unknown, module: { url: string } | { problem: string }, unloadable: WeakMap<object, string>): void {
  if (typeof Cls !== "function") return;
  if ("url" in module) Object.defineProperty(Cls, "module", { value: module.url, configurable: true, writable: true });
  else unloadable.set(Cls, module.problem);
}

/** Makes `space.add` of a typed class that no worker can load fail with why (a LocalSpace runs it as it is). */
function refuseUnloadable(space: Space): WeakMap<object, string> {
  const unloadable = new WeakMap<object, string>();
  if (space instanceof LocalSpace) return unloadable;
  const add = space.add.bind(space);
  space.add = ((Cls, id, ...rest) => {
    const problem = unloadable.get(Cls);
    return problem ? Promise.reject(new TypeError(problem)) : add(Cls, id, ...rest);
  }) as Space["add"];
  return unloadable;
}

/**
 * Tab completion: agent ids and action names first, the REPL's own
 * completion for everything else.
 */
function completeAgents(
  server: REPLServer,
  space: Space,
  debug: boolean,
  valueAt: (path: string[]) => Promise<unknown>,
  handleIds: WeakMap<object, string>,
): void {
  const completer = new SpaceCompleter(space, {
    debug,
    handleAt: async (path) => {
      const value = await valueAt(path);
      return typeof value === "object" && value !== null ? handleIds.get(value) : undefined;
    },
  });
  const ownCompletion = server.completer as AsyncCompleter;
  (server as { completer: AsyncCompleter }).completer = (line, callback) => {
    // An answer comes after a turn or more (an agent's `help`). If by then a Tab has
    // completed the line, or more was typed, the answer is stale: the REPL would draw it
    // as a grey preview after the new line.
    const asked = `${server.cursor}:${server.line}`;
    const answer: Parameters<AsyncCompleter>[1] = (error, found) => {
      if (`${server.cursor}:${server.line}` === asked) callback(error, found);
      else callback(null, [[], line]);
    };
    completer.complete(line).then(
      (found) => (found && found[0].length > 0 ? answer(null, found) : ownCompletion.call(server, line, answer)),
      () => ownCompletion.call(server, line, answer),
    );
  };
}

/**
 * The value of a dotted variable path, by the REPL's own evaluation, as its
 * completion does: it sees `const` and `let` declarations too. A bare path
 * runs no code but getters.
 */
function evaluatePath(server: REPLServer, evaluate: REPLEval, path: string[]): Promise<unknown> {
  const expression = path.join(".");
  return new Promise((resolve) => {
    evaluate.call(server, expression, server.context, "completion", (error, result) => resolve(error ? undefined : result));
  });
}

/** The exported agent classes of every module, by the name each goes by in the REPL, and each one's file. */
async function loadAgentClasses(
  modules: string[],
  warn: (warning: string) => void,
): Promise<{ classes: Map<string, AgentClass>; files: Map<string, string> }> {
  const classes = new Map<string, AgentClass>();
  const files = new Map<string, string>();
  for (const specifier of modules) {
    const found = agentClassesOf(await loadModule(specifier));
    if (found.size === 0) warn(`${specifier} exports no agent class`);
    for (const [name, Cls] of found) {
      if (sessionNames.includes(name)) warn(`${specifier}: ${name} is left out of scope: the name is the session's own`);
      else {
        if (classes.has(name)) warn(`${specifier}: ${name} replaces the ${name} of an earlier module`);
        classes.set(name, Cls);
        files.set(name, resolve(specifier));
      }
    }
  }
  return { classes, files };
}

/**
 * Makes `space.handle` remember which agent each handle it returns stands for,
 * so that completion after `calc.` knows whose actions to offer.
 */
function rememberHandleIds(space: Space): WeakMap<object, string> {
  const ids = new WeakMap<object, string>();
  const makeHandle = space.handle.bind(space);
  space.handle = <T extends Agent = Agent>(id: string, options?: RequestOptions): Handle<T> => {
    const handle = makeHandle<T>(id, options);
    ids.set(handle, id);
    return handle;
  };
  return ids;
}
