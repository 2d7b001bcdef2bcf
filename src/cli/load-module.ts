import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { AgentClass } from "../index.js";
import { ATTACH } from "../agent-link.js";
import { nextVersion } from "../bundle.js";

/** A module the user named that cannot be loaded; its message says why. */
export class ModuleLoadError extends Error {
  override name = "ModuleLoadError";
}

/**
 * Imports a user's module, TypeScript or JavaScript, with no build step: it
 * goes through the same cached esbuild bundle a worker loads, and that
 * bundle's `import "agentspace"` is the very library this CLI runs.
 */
export async function loadModule(specifier: string): Promise<Record<string, unknown>> {
  const url = specifier.startsWith("file:") ? specifier : pathToFileURL(resolve(specifier)).href;
  if (!existsSync(fileURLToPath(url))) throw new ModuleLoadError(`no module at ${specifier}`);
  let bundled: string;
  try {
    // Named by its build: after an edit (and `.reload`) the new code is imported, not the cached module.
    bundled = (await nextVersion(url)).bundleUrl;
  } catch (error) {
    throw new ModuleLoadError(`cannot compile ${specifier}: ${(error as Error).message}`, { cause: error });
  }
  return (await import(bundled)) as Record<string, unknown>;
}

/**
 * The agent classes among a module's exports, by the name they go by in the
 * REPL: the export's name, or the class's own for a default export. A class
 * is an agent class when spaces can drive its instances (checked by the
 * registered symbol, so a class from any copy of the library counts).
 */
export function agentClassesOf(exports: Record<string, unknown>): Map<string, AgentClass> {
  const classes = new Map<string, AgentClass>();
  for (const [name, value] of Object.entries(exports)) {
    const prototype = typeof value === "function" ? (value.prototype as Record<symbol, unknown> | undefined) : undefined;
    if (typeof prototype?.[ATTACH] !== "function") continue;
    classes.set(name === "default" ? (value as AgentClass).name : name, value as AgentClass);
  }
  return classes;
}
