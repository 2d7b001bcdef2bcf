import { clearLine, cursorTo, type AsyncCompleter } from "node:readline";
import { start, type REPLEval, type REPLServer } from "node:repl";
import type { Context } from "node:vm";
import * as agentspace from "../index.js";
import { Agent, type AgentClass, type Handle, type RequestOptions, type Space } from "../index.js";
import { paint, wantsColour } from "./colour.js";
import { defineCommands, openInspector } from "./commands.js";
import { SpaceCompleter } from "./completer.js";
import { agentClassesOf, loadModule } from "./load-module.js";
import { createSpace, type SpaceKind } from "./space-kind.js";

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
const sessionNames = ["space", "me", "agentspace"];

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

  const classes = await loadAgentClasses(settings.modules, (warning) => say(paint(warning, "yellow", colour)));
  const space = createSpace(settings.space, debug);
  const me = await space.addForeground(Agent, "me");
  const handleIds = rememberHandleIds(space);

  const debugging = debug ? "debug: inspect and eval are open" : "no debug: inspect and eval are closed";
  say(`agentspace repl: ${space.constructor.name} (${debugging})`);
  say(`in scope: ${[...sessionNames, ...classes.keys()].join(", ")}`);
  say(`commands: .agents, .help <id>, .trace on|off, .inspect; Ctrl-D quits`);
  if (settings.inspect) say(`inspector: ${await openInspector(space)}`);

  const server = start({
    prompt: "agentspace> ",
    input: settings.input,
    output,
    ...(settings.terminal === undefined ? {} : { terminal: settings.terminal }),
    useColors: colour,
    // The main context, not a vm context of its own: an object typed at the
    // prompt must be a plain Object of this realm, or messages refuse it.
    useGlobal: true,
    breakEvalOnSigint: true, // Ctrl-C gives up an `await` that does not come back
  });
  const scope = (context: Context): void => {
    Object.assign(context, Object.fromEntries(classes), { space, me, agentspace });
  };
  scope(server.context);
  server.on("reset", scope); // .clear makes a new context

  // Counts code being evaluated (an `await` can take a while), so that a line
  // arriving meanwhile is not followed by a prompt the REPL has not shown yet.
  let evaluating = 0;
  const busy = <T>(work: Promise<T>): Promise<T> => {
    evaluating++;
    return work.finally(() => evaluating--);
  };
  const evaluate = server.eval;
  (server as { eval: REPLEval }).eval = function (code, context, file, callback) {
    evaluating++;
    evaluate.call(this, code, context, file, (error, result) => {
      evaluating--;
      callback(error, result);
    });
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

  completeAgents(server, space, debug, (path) => evaluatePath(server, evaluate, path), handleIds);
  const stopTrace = defineCommands(server, { space, debug, colour, say, announce, busy });

  const closed = new Promise<void>((resolve, reject) => {
    server.once("exit", () => {
      stopTrace();
      space.destroy().then(resolve, reject);
    });
  });
  return { server, space, closed };
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
    completer.complete(line).then(
      (found) => (found && found[0].length > 0 ? callback(null, found) : ownCompletion.call(server, line, callback)),
      () => ownCompletion.call(server, line, callback),
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

/** The exported agent classes of every module, by the name each goes by in the REPL. */
async function loadAgentClasses(modules: string[], warn: (warning: string) => void): Promise<Map<string, AgentClass>> {
  const classes = new Map<string, AgentClass>();
  for (const specifier of modules) {
    const found = agentClassesOf(await loadModule(specifier));
    if (found.size === 0) warn(`${specifier} exports no agent class`);
    for (const [name, Cls] of found) {
      if (sessionNames.includes(name)) warn(`${specifier}: ${name} is left out of scope: the name is the session's own`);
      else {
        if (classes.has(name)) warn(`${specifier}: ${name} replaces the ${name} of an earlier module`);
        classes.set(name, Cls);
      }
    }
  }
  return classes;
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
