import { unwatchFile, watchFile } from "node:fs";
import { basename, resolve } from "node:path";
import type { REPLServer } from "node:repl";
import type { AgentClass } from "../index.js";
import { paint } from "../colour.js";
import type { CommandContext } from "./commands.js";
import { saveHistory, type HistoryEntry } from "./history.js";
import { agentClassesOf, loadModule } from "./load-module.js";

/** What the live-programming commands need of the session. */
export interface LiveContext extends CommandContext {
  /** The modules loaded in the session, as typed on the command line. */
  modules: string[];
  /** Puts a module's classes (new versions after a reload) into the REPL's scope. */
  rescope(classes: Map<string, AgentClass>): void;
  /** The inputs evaluated so far; commands add theirs as code. */
  history: HistoryEntry[];
  /** Agent classes of the modules, by name, with their files. */
  moduleClasses: Map<string, string>;
}

/** `.reload`, `.define` and `.history`, on top of the session's other commands. */
export function defineLiveCommands(server: REPLServer, context: LiveContext): void {
  const { space, say, busy, colour } = context;
  const failed = (error: Error): void => say(paint(`${error.name}: ${error.message}`, "red", colour));

  server.defineCommand("reload", {
    help: "Reload every module of the session: its running agents take the new code and keep their state",
    action() {
      const reloads = reloadAll(context).then((lines) => lines.forEach((line) => say(line)), failed);
      void busy(reloads).then(() => this.displayPrompt());
    },
  });

  server.defineCommand("define", {
    help: "Add an action to a running agent (debug spaces): .define <id> <name> <function source>",
    action(text) {
      const match = /^\s*(\S+)\s+(\S+)\s+([\s\S]+)$/.exec(text);
      if (!match) {
        say("usage: .define <id> <name> <function source>, as in .define calc triple ({ n }) => n * 3");
        return this.displayPrompt();
      }
      const [, id, name, source] = match as unknown as [string, string, string, string];
      const defined = space.defineAction(id, name, source.trim()).then((names) => {
        context.history.push({ input: `await space.defineAction(${JSON.stringify(id)}, ${JSON.stringify(name)}, ${JSON.stringify(source.trim())});` });
        say(`defined ${id}.${name} (actions defined on ${id}: ${names.join(", ")})`);
      }, failed);
      void busy(defined).then(() => this.displayPrompt());
    },
  });

  server.defineCommand("history", {
    help: "Save the session's inputs as a script: .history <file>, replayed by agentspace run <file>",
    action(text) {
      const file = text.trim();
      if (!file) {
        say("usage: .history <file>");
        return this.displayPrompt();
      }
      const saved = saveHistory(resolve(file), context.history, context.moduleClasses).then(
        () => say(`saved ${context.history.length} inputs to ${file}: replay with agentspace run ${file}`),
        failed,
      );
      void busy(saved).then(() => this.displayPrompt());
    },
  });
}

/** Reloads each module of the session; one line per module says what happened. */
async function reloadAll(context: LiveContext): Promise<string[]> {
  if (context.modules.length === 0) return ["no module to reload: start the REPL with agentspace repl <module…>"];
  const lines: string[] = [];
  for (const module of context.modules) lines.push(await reloadOne(context, module));
  context.history.push({ input: context.modules.map((module) => `await space.reload(${JSON.stringify(resolve(module))});`).join("\n") });
  return lines;
}

/** Reloads one module and puts its new classes in scope; the line says which agents run the new code. */
export async function reloadOne(context: LiveContext, module: string): Promise<string> {
  const { agents } = await context.space.reload(module);
  context.rescope(agentClassesOf(await loadModule(module)));
  const name = basename(module);
  if (agents.length === 0) return `reloaded ${name}: no running agent has its classes`;
  const named = agents.length > 5 ? `${agents.slice(0, 5).join(", ")}, …` : agents.join(", ");
  const which = `${agents.length} agent${agents.length === 1 ? "" : "s"} (${named})`;
  return `reloaded ${name}: ${which} now run${agents.length === 1 ? "s" : ""} the new code; state kept`;
}

/**
 * `--watch`: reloads a module each time its file is saved, and says so.
 * Returns what stops watching.
 */
export function watchModules(context: LiveContext): () => void {
  const files = context.modules.map((module) => resolve(module));
  let running = Promise.resolve();
  files.forEach((file, i) => {
    watchFile(file, { interval: 100 }, (now, before) => {
      if (now.mtimeMs === before.mtimeMs || now.mtimeMs === 0) return; // not a save (or the file is gone for a moment)
      const module = context.modules[i]!;
      // One reload at a time, in the order of the saves.
      running = running
        .then(() => context.busy(reloadOne(context, module)))
        .then(
          (line) => context.announce(String(line)),
          (error: Error) => context.announce(paint(`reload of ${basename(module)} failed: ${oneLine(error.message)}`, "red", context.colour)),
        );
    });
  });
  return () => files.forEach((file) => unwatchFile(file));
}

/** esbuild's messages span lines; an announcement is one. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
