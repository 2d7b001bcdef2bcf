/**
 * Which agentspace the bench measures. From the repo, "agentspace" is the
 * source: tsconfig's "paths" maps it to src/index.ts for tsc and tsx alike.
 * With --packed (lib/packed.ts) it is the package as npm installs it, and
 * `PACKED_ENV` names that package's entry for this process and every child.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Set in a --packed run: the file: URL of the installed package's entry, what every "agentspace" resolves to. */
export const PACKED_ENV = "AGENTSPACE_BENCH_PACKED";

/** tsx's loader, given explicitly so that a child runs the same from `npm run bench` and from a test. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
/** tsx and the "agentspace" hook of a --packed run. */
const PACKED_LOADER = new URL("./packed-loader.mjs", import.meta.url).href;
const SOURCE_ENTRY = new URL("../../src/index.ts", import.meta.url).href;

export interface LibraryInfo {
  /** The package as npm installs it (--packed), not the source tree. */
  packed: boolean;
  version: string;
  /** The file every "agentspace" import of the bench resolved to. */
  entry: string;
}

/** The installed package's entry in a --packed run; undefined when the bench runs from the source tree. */
export function packedEntry(): string | undefined {
  return process.env[PACKED_ENV] || undefined;
}

/**
 * What a child node process needs in front of its script to run bench
 * TypeScript against the same library as this one (or, given `entry`, against
 * that installed package; the child must then have `PACKED_ENV` set to it).
 */
export function loaderFlags(entry = packedEntry()): string[] {
  return ["--import", entry === undefined ? TSX_LOADER : PACKED_LOADER];
}

/** How to start the `agentspace` CLI of the library under test: the source's under tsx, or the package's bin. */
export function cliCommand(): string[] {
  const entry = packedEntry();
  if (entry === undefined) return [...loaderFlags(), fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url))];
  const { bin } = manifest(entry) as { bin: Record<string, string> };
  return [fileURLToPath(new URL(bin.agentspace!, new URL("../", entry)))];
}

/**
 * The library this process measures. Throws when "agentspace" resolves to any
 * other: from the repo without tsconfig's "paths" (tsx finds tsconfig.json in
 * the working directory) the package names itself and would load a stale dist/.
 */
export function libraryInfo(): LibraryInfo {
  const expected = packedEntry() ?? SOURCE_ENTRY;
  const entry = import.meta.resolve("agentspace");
  if (entry !== expected) {
    throw new Error(`"agentspace" resolves to ${entry}, not ${expected}: run the bench from the repo's root (npm run bench)`);
  }
  const { version } = manifest(entry) as { version: string };
  return { packed: entry !== SOURCE_ENTRY, version, entry: fileURLToPath(entry) };
}

/** The package.json of the package whose entry is `entry` (src/index.ts or dist/index.js: one folder down). */
function manifest(entry: string): unknown {
  return JSON.parse(readFileSync(new URL("../package.json", entry), "utf8"));
}
