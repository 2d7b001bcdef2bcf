import type { REPLServer } from "node:repl";
import type { Space } from "../index.js";
import { formatActions } from "./action-list.js";
import { agentCensus } from "./agent-census.js";
import { paint } from "../colour.js";
import { traceMessages } from "./trace.js";

/** What the commands need of the session they run in. */
export interface CommandContext {
  space: Space;
  debug: boolean;
  colour: boolean;
  /** Prints a line now, as the answer to the command. */
  say(line: string): void;
  /** Prints a line that arrives on its own, between commands (a trace line). */
  announce(line: string): void;
  /** Marks the session busy until `work` settles, as while code runs: no prompt is redrawn meanwhile. */
  busy(work: Promise<unknown>): Promise<unknown>;
  /** The space `space` names at the prompt now (the user may have made another), else the session's. */
  current(): Space;
}

/**
 * `.agents`, `.help <id>`, `.trace on|off` and `.inspect`, on top of Node's
 * own. Returns what stops the trace when the session ends.
 */
export function defineCommands(server: REPLServer, context: CommandContext): () => void {
  const { space, debug, colour, say, announce, busy } = context;
  const builtIn = debug ? "built in: help, inspect, eval" : "built in: help (inspect and eval are closed: --no-debug)";
  const nodeHelp = server.commands.help!.action;
  let stopTrace: (() => void) | undefined;

  server.defineCommand("agents", {
    help: "Count the agents by class and state, and list their ids (a few, or those matching: .agents <filter>)",
    action(text) {
      // The space named `space` at the prompt now: the session's, or one the user made since.
      for (const line of agentCensus(context.current(), text.trim(), colour)) say(line);
      this.displayPrompt();
    },
  });

  server.defineCommand("help", {
    help: "Print this help; .help <id>: the actions of agent <id>",
    action(text) {
      const id = text.trim();
      if (!id) return nodeHelp.call(this, text);
      const described = space
        .handle(id)
        .help()
        .then(
          (entries) => {
            for (const line of formatActions(entries)) say(line);
            say(paint(builtIn, "dim", colour));
          },
          (error: Error) => say(paint(`${error.name}: ${error.message}`, "red", colour)),
        );
      void busy(described).then(() => this.displayPrompt());
    },
  });

  server.defineCommand("trace", {
    help: "Print each message the space routes, one line each: .trace on|off",
    action(text) {
      const setting = text.trim();
      if (setting === "on") stopTrace ??= traceMessages(space, announce, colour);
      else if (setting === "off") {
        stopTrace?.();
        stopTrace = undefined;
      } else if (setting !== "") say("usage: .trace on|off");
      say(`trace is ${stopTrace ? "on" : "off"}`);
      this.displayPrompt();
    },
  });

  server.defineCommand("inspect", {
    help: "Open the inspector, a live web page of the space, and print its address",
    action() {
      const opened = openInspector(space).then(
        (url) => say(`inspector: ${url}`),
        (error: Error) => say(paint(`could not open the inspector: ${error.message}`, "red", colour)),
      );
      void busy(opened).then(() => this.displayPrompt());
    },
  });

  return () => stopTrace?.();
}

// One inspector per space: `.inspect` again prints the same address. The space's destroy() closes it.
const inspectors = new WeakMap<Space, Promise<string>>();

/** Opens the inspector of `space` on first call; resolves with its URL. */
export function openInspector(space: Space): Promise<string> {
  let url = inspectors.get(space);
  if (!url) {
    url = space.openInspector().then((inspector) => inspector.url);
    inspectors.set(space, url);
    url.catch(() => inspectors.delete(space));
  }
  return url;
}
