import type { Space } from "../index.js";
import { loadModule } from "./load-module.js";
import { createSpace, type SpaceKind, type Threads } from "./space-kind.js";

export interface RunOptions {
  /** Where the agents run. */
  space?: SpaceKind;
  /** Opens the `inspect` and `eval` actions. */
  debug?: boolean;
  /** The command line's words after the module, handed to `main` as its second argument. */
  args?: string[];
  /** Opens the inspector (a live web page of the space) before `main` starts; its address goes to stderr. */
  inspect?: boolean;
  /** A multiprocess space's shared worker threads (a number, or "auto"); unset: one per agent. */
  threads?: Threads;
}

export const runDefaults: Required<Omit<RunOptions, "threads">> = { space: "multiprocess", debug: false, args: [], inspect: false };

/** What `agentspace run` calls: `export async function main(space, args) { … }`. */
export type Main = (space: Space, args: string[]) => unknown;

/** A module that `run` cannot start, or whose `main` failed; the message says which. */
export class RunError extends Error {
  override name = "RunError";
}

/**
 * Imports `specifier`, calls its exported `main(space, args)` on a new space
 * and destroys the space once `main` has settled, whether it returned or threw.
 */
export async function runModule(specifier: string, options: RunOptions = {}): Promise<void> {
  const { space: kind, debug, args, inspect, threads } = { ...runDefaults, ...options };
  const main = (await loadModule(specifier)).main;
  if (typeof main !== "function") {
    throw new RunError(`${specifier} exports no main function; add one: export async function main(space) { … }`);
  }
  const space = createSpace(kind, debug, threads);
  // Nobody else may be listening: a crashed agent must not go unseen.
  space.on("error", (error) => {
    if (space.listenerCount("error") === 1) console.error(`agentspace: ${error.name}: ${error.message}`);
  });
  try {
    // On stderr: what main prints on stdout stays the program's own output.
    if (inspect) console.error(`agentspace: inspector at ${(await space.openInspector()).url}`);
    await (main as Main)(space, args);
  } catch (error) {
    throw new RunError(`main(space) of ${specifier} failed: ${describe(error)}`, { cause: error });
  } finally {
    await space.destroy();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}
