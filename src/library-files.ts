import { createHash } from "node:crypto";
import { existsSync, readdirSync, statSync } from "node:fs";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BuildOptions, Plugin } from "esbuild";

/**
 * The files of this library that other threads load: `thread.js` (the agent
 * runtime and its host as one file, see thread.ts), the worker entries that
 * import it, and the whole library (for an agent module that needs more than
 * the runtime). The package ships them (scripts/build.ts). Running from
 * source (under vitest or tsx), they are built the same way into the cache on
 * first use, and again after a source file changes.
 */
export interface LibraryFiles {
  /** file: URL of the runtime agent bundles import: thread.js. */
  runtime: string;
  /** file: URL of the worker entry that hosts agents. */
  agentHost: string;
  /** file: URL of the CPU pool's thread entry. */
  computeTask: string;
  /** The library's entry as an agent module's import names it: a file path (source, bundled in) or a URL (the package's, left external). */
  index: { path: string; external: boolean };
}

const fromSource = import.meta.url.endsWith(".ts");
/** Part of the cache key of a build from source: raise it when what goes into one changes. */
const BUILD_FORMAT = 3;

let files: Promise<LibraryFiles> | undefined;

/** Where each file is (built on first use when running from source): one version per process, since all of it speaks one protocol. */
export function libraryFiles(): Promise<LibraryFiles> {
  files ??= fromSource ? builtFromSource() : Promise.resolve(packaged());
  files.catch(() => (files = undefined)); // a failed build is not remembered
  return files;
}

/** What every build of the library's JavaScript shares: Node 20, ESM, npm packages left as imports. */
export const buildDefaults: BuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  // Stack traces map to the sources through these files, read only when a
  // stack is: by Node with --enable-source-maps, or lazily in worker threads.
  sourcemap: true,
  logLevel: "warning",
};

/**
 * Builds `thread.js` and the worker entries into `outdir` (`workers/` below
 * it), from source. Resolves with the source files bundled into thread.js:
 * every other build of the library imports those through it (see `throughThread`).
 */
export async function buildThreadSide(outdir: string, options: BuildOptions = {}): Promise<Set<string>> {
  const { build } = await import("esbuild");
  const src = fileURLToPath(new URL("./", import.meta.url));
  const workers = fileURLToPath(new URL("../workers/", import.meta.url));
  // Every thread that hosts agents compiles thread.js as it starts: shorter syntax parses a
  // little faster. White space stays: an uncaught error prints the line it was thrown from,
  // and on a one-line file that is the whole library (removing it saved no measurable start-up
  // time). Names stay, and frames map to the sources.
  const lean: BuildOptions = { minifySyntax: true };
  const { metafile } = await build({
    ...buildDefaults,
    ...lean,
    ...options,
    entryPoints: { thread: join(src, "thread.ts") },
    outdir,
    metafile: true,
  });
  const threadFiles = new Set(Object.keys(metafile.inputs).map((input) => join(process.cwd(), input)));
  await build({
    ...buildDefaults,
    ...lean,
    ...options,
    entryPoints: { "agent-host": join(workers, "agent-host.ts"), "compute-task": join(workers, "compute-task.ts") },
    outdir: join(outdir, "workers"),
    plugins: [throughThread(threadFiles, "../thread.js")],
  });
  return threadFiles;
}

/**
 * Imports of a module that thread.js holds become imports of thread.js
 * (`threadPath`, as the output file names it): one copy of each in every thread.
 */
export function throughThread(threadFiles: Set<string>, threadPath: string): Plugin {
  const resolving = Symbol("throughThread");
  return {
    name: "agentspace-through-thread",
    setup(builder) {
      builder.onResolve({ filter: /^\./ }, async (args) => {
        if ((args.pluginData as { [resolving]?: true } | undefined)?.[resolving]) return undefined;
        const found = await builder.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: { [resolving]: true } });
        return threadFiles.has(found.path) ? { path: threadPath, external: true } : found;
      });
    },
  };
}

function packaged(): LibraryFiles {
  const at = (path: string) => new URL(path, import.meta.url).href;
  return {
    runtime: at("./thread.js"),
    agentHost: at("./workers/agent-host.js"),
    computeTask: at("./workers/compute-task.js"),
    index: { path: at("./index.js"), external: true },
  };
}

async function builtFromSource(): Promise<LibraryFiles> {
  const src = fileURLToPath(new URL("./", import.meta.url));
  const workers = fileURLToPath(new URL("../workers/", import.meta.url));
  const { version } = await import("esbuild");
  // Named after every source file and its mtime: an edit anywhere makes a fresh build, never a stale one.
  const key = createHash("sha256").update(`${version}\0${BUILD_FORMAT}\0${sourceStamp(src)}\0${sourceStamp(workers)}`).digest("hex").slice(0, 16);
  const dir = join(dirname(src), "node_modules", ".cache", "agentspace", `library-${key}`);
  const result: LibraryFiles = {
    runtime: pathToFileURL(join(dir, "thread.js")).href,
    agentHost: pathToFileURL(join(dir, "workers", "agent-host.js")).href,
    computeTask: pathToFileURL(join(dir, "workers", "compute-task.js")).href,
    index: { path: join(src, "index.ts"), external: false },
  };
  if (existsSync(join(dir, "complete"))) return result;
  // Built aside and moved in whole: a concurrent process never loads half a build.
  const temporary = `${dir}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(temporary, { recursive: true });
  try {
    await buildThreadSide(temporary, { sourcesContent: false, logLevel: "silent" });
    await writeFile(join(temporary, "complete"), "");
    await rename(temporary, dir).catch((error: NodeJS.ErrnoException) => {
      if (!existsSync(join(dir, "complete"))) throw error; // else another process built the same sources first
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  return result;
}

/** The TypeScript files under `dir`, each with its mtime, as one string. */
function sourceStamp(dir: string): string {
  const parts: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) parts.push(`${relative(dir, path)}:${statSync(path).mtimeMs}`);
    }
  };
  walk(dir);
  return parts.sort().join("\n");
}
