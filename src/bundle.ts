import { createHash } from "node:crypto";
import { existsSync, realpathSync, statSync } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BuildResult, Plugin } from "esbuild";
import { libraryFiles, type LibraryFiles } from "./library-files.js";

/**
 * Agent modules are bundled for their workers with esbuild: a worker then
 * loads plain JavaScript (TypeScript, standard decorators and `using` lowered
 * for Node 20) with no loader of its own. Bundles are cached on disk and
 * rebuilt when any file that went into them changes.
 */

/** Part of every cache key: raise it when what goes into a bundle changes. */
const bundleFormat = 3;

/** The worker entry that hosts agents: built with the package, or on first use when running from source. */
export async function workerHostUrl(): Promise<string> {
  return (await libraryFiles()).agentHost;
}

/** The entry of the CPU pool's threads, as a path (piscina's `filename`). */
export async function computeWorkerUrl(): Promise<string> {
  return fileURLToPath((await libraryFiles()).computeTask);
}

interface CacheRecord {
  /** Every input file and its mtime when the bundle was made. */
  inputs: Record<string, number>;
}

// A bundle checked this recently is taken as fresh if the module file itself
// is unchanged: adding 10,000 agents of one class must not stat every input
// 10,000 times, yet an edit made during a REPL session is picked up.
const RECHECK_AFTER_MS = 1_000;

/** Per module: the bundle's check under way or done, when, and the module file's mtime then. */
const checks = new Map<string, { bundle: Promise<string>; at: number; mtime: number }>();

/**
 * The file: URL of a worker-ready bundle of `moduleUrl`, built or taken from
 * the cache. `recheck`: check every input now, even if checked a moment ago
 * (a reload right after editing a file the module imports).
 */
export function bundleModule(moduleUrl: string, { recheck = false }: { recheck?: boolean } = {}): Promise<string> {
  if (!moduleUrl.startsWith("file:")) {
    return Promise.reject(new Error(`agent module "${moduleUrl}" must be a file: URL (use static module = import.meta.url)`));
  }
  const mtime = recheck ? mtimeOf(moduleUrl) : mtimeThisTurn(moduleUrl);
  const recent = checks.get(moduleUrl);
  if (!recheck && recent && recent.mtime === mtime && Date.now() - recent.at < RECHECK_AFTER_MS) return recent.bundle;
  const modulePath = fileURLToPath(moduleUrl);
  // Concurrent adds of one class share one check and one build.
  const check = { bundle: cachedOrBuilt(modulePath), at: Date.now(), mtime };
  checks.set(moduleUrl, check);
  check.bundle.catch(() => checks.get(moduleUrl) === check && checks.delete(moduleUrl)); // a failure is not remembered
  return check.bundle;
}

function mtimeOf(moduleUrl: string): number {
  return statSync(fileURLToPath(moduleUrl), { throwIfNoEntry: false })?.mtimeMs ?? -1;
}

/**
 * Module files' mtimes as read in this turn of the event loop, by URL: a
 * burst of adds of one class stats its file (and parses its URL) once, not
 * once an agent (~3 µs and ~1 µs each).
 */
const mtimes = new Map<string, number>();

function mtimeThisTurn(moduleUrl: string): number {
  let mtime = mtimes.get(moduleUrl);
  if (mtime === undefined) {
    if (mtimes.size === 0) setImmediate(() => mtimes.clear());
    mtimes.set(moduleUrl, (mtime = mtimeOf(moduleUrl)));
  }
  return mtime;
}

/** esbuild, loaded on first use: only a process that bundles pays for it (never a worker thread). */
function esbuild(): Promise<typeof import("esbuild")> {
  return import("esbuild");
}

async function cachedOrBuilt(modulePath: string): Promise<string> {
  const [{ version }, library] = await Promise.all([esbuild(), libraryFiles()]);
  const key = createHash("sha256")
    .update(`${modulePath}\0${version}\0${library.runtime}\0${library.index.path}\0${bundleFormat}`)
    .digest("hex")
    .slice(0, 16);
  const outfile = join(cacheDir(modulePath), `${basename(modulePath).replace(/\.[^.]+$/, "")}-${key}.mjs`);
  const inputs = (await freshInputs(outfile)) ?? (await buildBundle(modulePath, outfile));
  refuseProgramScript(modulePath, Object.keys(inputs));
  return pathToFileURL(outfile).href;
}

/** The script this process was started with (`node main.ts`, `tsx main.ts`), if any. */
function programScript(): string | undefined {
  const script = process.argv[1];
  if (!script) return undefined;
  try {
    return realpathSync(resolve(script));
  } catch {
    return undefined;
  }
}

/**
 * A worker thread imports an agent's module to load its class. If that module
 * is the program's own script, or imports it, the worker would run the whole
 * program again (which adds the agent again, which starts another worker…):
 * refused here, before any thread starts, naming the fix.
 */
function refuseProgramScript(modulePath: string, inputs: string[]): void {
  const script = programScript();
  if (script === undefined) return;
  const real = (path: string) => {
    try {
      return realpathSync(path);
    } catch {
      return path;
    }
  };
  if (!inputs.some((input) => real(input) === script)) return;
  const name = basename(script);
  throw new Error(
    real(modulePath) === script
      ? `an agent class is defined in ${name}, the script this program was started with: a worker thread would run ${name} ` +
          `again to load it, starting the whole program once more. Move the class to a module of its own (agents.ts, say) ` +
          `and import it in ${name}`
      : `${basename(modulePath)}, an agent module, imports ${name}, the script this program was started with: a worker thread ` +
          `would run ${name} again to load the agent, starting the whole program once more. Move what ${basename(modulePath)} ` +
          `takes from ${name} to a module of its own`,
  );
}

/**
 * `node_modules/.cache/agentspace` of the module's package, so that the
 * packages the bundle leaves external resolve from it as from the module.
 */
function cacheDir(modulePath: string): string {
  for (let dir = dirname(modulePath); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return join(dir, "node_modules", ".cache", "agentspace");
    if (dirname(dir) === dir) return join(tmpdir(), "agentspace-cache");
  }
}

/** The inputs of the cached bundle at `outfile` when none has changed since it was built; undefined: build it. */
async function freshInputs(outfile: string): Promise<Record<string, number> | undefined> {
  try {
    const record = JSON.parse(await readFile(`${outfile}.json`, "utf8")) as CacheRecord;
    const checks = Object.entries(record.inputs).map(async ([file, mtime]) => (await stat(file)).mtimeMs === mtime);
    return existsSync(outfile) && (await Promise.all(checks)).every(Boolean) ? record.inputs : undefined;
  } catch {
    return undefined; // no record, or an input is gone
  }
}

/** Builds the bundle and its cache record; resolves with its inputs (file → mtime). */
async function buildBundle(modulePath: string, outfile: string): Promise<Record<string, number>> {
  await mkdir(dirname(outfile), { recursive: true });
  const library = await libraryFiles();
  // The runtime first; a module that imports more of the library than that gets all of it.
  let result: Bundled;
  try {
    result = await bundleWith(modulePath, outfile, await runtimeOnly(library));
  } catch (error) {
    if (!importsBeyondRuntime(error)) throw error;
    result = await bundleWith(modulePath, outfile, wholeLibrary(library));
  }
  const inputs: Record<string, number> = {};
  await Promise.all(
    Object.keys(result.metafile.inputs)
      .filter((input) => !input.startsWith(`${LIBRARY}:`))
      .map(async (input) => {
        const file = resolve(input);
        inputs[file] = (await stat(file)).mtimeMs;
      }),
  );
  const code = result.outputFiles.find((file) => !file.path.endsWith(".map"))!;
  const map = result.outputFiles.find((file) => file.path.endsWith(".map"))!;
  const temporary = `${outfile}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(`${outfile}.map`, map.contents);
  await writeFile(`${outfile}.json`, JSON.stringify({ inputs } satisfies CacheRecord));
  await writeFile(temporary, `${code.text}//# sourceMappingURL=${basename(outfile)}.map\n`);
  // Rename is atomic: a concurrent process never loads a half-written bundle.
  await rename(temporary, outfile);
  return inputs;
}

type Bundled = BuildResult<{ metafile: true; write: false }>;

async function bundleWith(modulePath: string, outfile: string, library: Plugin): Promise<Bundled> {
  const { build } = await esbuild();
  return build({
    entryPoints: [modulePath],
    outfile,
    write: false,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // A class that names itself inside its body (a static counter, say) is renamed `_Account` by
    // the decorator transform; the host finds the class by its name, so names are kept.
    keepNames: true,
    // npm packages stay imports, resolved at run time from the cache folder like from the module.
    packages: "external",
    // Stack traces map to the source files, which are on disk: no need to carry their text. The
    // map is a file of its own, read only when a stack is (a worker thread maps stacks lazily).
    sourcemap: "external",
    sourcesContent: false,
    metafile: true,
    logLevel: "silent",
    plugins: [library, ownImportMetaUrl],
  });
}

/** The namespace of the stand-in for the library inside a bundle. */
const LIBRARY = "agentspace-library";

/** Whether `error` is esbuild saying the module imports a name the runtime does not export. */
function importsBeyondRuntime(error: unknown): boolean {
  const errors = (error as { errors?: Array<{ text?: string }> }).errors ?? [];
  return errors.some((item) => item.text?.includes("No matching export") && item.text.includes(`${LIBRARY}:`));
}

/** What the runtime exports, by name: read from the very runtime this process runs. */
let runtimeNames: Promise<string[]> | undefined;

/**
 * `import … from "agentspace"` in an agent module (or an import of the
 * library's entry by path, as this repo's own agents write it) becomes an
 * import of the lean runtime, the very one the worker host loads: a worker
 * never loads the spaces, brokers, inspector or CLI. The stand-in names each
 * export, so that esbuild says so when the module imports more than that.
 */
async function runtimeOnly(library: LibraryFiles): Promise<Plugin> {
  runtimeNames ??= import("./runtime.js").then((runtime) => Object.keys(runtime));
  const names = await runtimeNames;
  return libraryStandIn(library, `export { ${names.join(", ")} } from ${JSON.stringify(library.runtime)};`);
}

/** The whole library, for a module that imports more than the runtime: the package's own, or its source bundled in. */
function wholeLibrary(library: LibraryFiles): Plugin {
  return libraryStandIn(library, `export * from ${JSON.stringify(library.index.path)};`);
}

/** Resolves the library, by name or by the path of its entry, to a module made of `contents`. */
function libraryStandIn(library: LibraryFiles, contents: string): Plugin {
  const { index } = library;
  const entry = (index.external ? fileURLToPath(index.path) : index.path).replace(/\.[cm]?[jt]s$/, "");
  const isEntry = (path: string) => path.replace(/\.[cm]?[jt]s$/, "") === entry;
  return {
    name: "agentspace-library",
    setup(builder) {
      builder.onResolve({ filter: /^agentspace$|\/index(\.[cm]?[jt]s)?$/ }, (args) => {
        if (args.namespace === LIBRARY || (args.path !== "agentspace" && !isEntry(resolve(args.resolveDir, args.path)))) return undefined;
        return { path: "agentspace", namespace: LIBRARY };
      });
      builder.onLoad({ filter: /.*/, namespace: LIBRARY }, () => ({ contents, loader: "js", resolveDir: dirname(entry) }));
      // What the stand-in imports: by URL where the bundle runs (the runtime, the package), or the source bundled in.
      builder.onResolve({ filter: /.*/, namespace: LIBRARY }, (args) =>
        args.path.startsWith("file:") ? { path: args.path, external: true } : { path: args.path },
      );
    },
  };
}

/** What `import.meta.url` reads as in a bundle: a constant each file declares for itself. */
const moduleUrlName = "__agentspace_module_url";

/**
 * Each file keeps its own `import.meta.url` inside the bundle, where esbuild
 * would leave every one naming the bundle. So `static module =
 * import.meta.url` still names the agent's source module when a bundle is
 * loaded in the main thread (the CLI loads user modules that way) and its
 * classes are then added to a worker space; and `new URL("./data.json",
 * import.meta.url)` finds files next to the source. `define` rewrites only
 * real uses, never text in strings; esbuild renames each file's constant
 * apart when it joins the files.
 */
const ownImportMetaUrl: Plugin = {
  name: "agentspace-own-import-meta-url",
  setup(builder) {
    builder.initialOptions.define = { ...builder.initialOptions.define, "import.meta.url": moduleUrlName };
    builder.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async ({ path }) => {
      const source = await readFile(path, "utf8");
      if (!source.includes("import.meta.url")) return undefined; // esbuild loads it as usual
      const declaration = `const ${moduleUrlName} = ${JSON.stringify(pathToFileURL(path).href)}; `;
      // On the first line (after a hashbang), so that line numbers in stack traces stay right.
      const at = source.startsWith("#!") ? source.indexOf("\n") + 1 : 0;
      return { contents: source.slice(0, at) + declaration + source.slice(at), loader: loaderFor(path) };
    });
  },
};

function loaderFor(path: string): "ts" | "tsx" | "jsx" | "js" {
  if (/\.[cm]?ts$/.test(path)) return "ts";
  if (path.endsWith(".tsx")) return "tsx";
  return path.endsWith(".jsx") ? "jsx" : "js";
}

/** The new version of a source module, bundled for loading. */
export interface NextVersion {
  sourceModule: string;
  /** The bundle's file: URL, made unique per build: a thread that loaded an older build loads this one anew. */
  bundleUrl: string;
}

/** Per check of a bundle (bundleModule hands out one promise per check): its build-named URL, read once. */
const versions = new WeakMap<Promise<string>, Promise<NextVersion>>();

/** The module bundled afresh (or taken from the cache if unchanged), its URL naming this very build. */
export function nextVersion(sourceModule: string, recheck = false): Promise<NextVersion> {
  const bundle = bundleModule(sourceModule, { recheck });
  let version = versions.get(bundle);
  if (!version) {
    version = bundle.then(async (url) => ({ sourceModule, bundleUrl: `${url}?build=${(await stat(fileURLToPath(url))).mtimeMs}` }));
    versions.set(bundle, version);
  }
  return version;
}
