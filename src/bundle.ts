import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Plugin } from "esbuild";

/**
 * Agent modules are bundled for their workers with esbuild: a worker then
 * loads plain JavaScript (TypeScript, standard decorators and `using` lowered
 * for Node 20) with no loader of its own. Bundles are cached on disk and
 * rebuilt when any file that went into them changes.
 */

// Running from source (`.ts`, under vitest or tsx) or from the built package.
const fromSource = import.meta.url.endsWith(".ts");
const libraryEntry = new URL(fromSource ? "./index.ts" : "./index.js", import.meta.url);
/** Part of every cache key: raise it when what goes into a bundle changes. */
const bundleFormat = 2;

/** The worker entry that hosts agents: built with the package, or bundled on first use when running from source. */
export function workerHostUrl(): Promise<string> {
  return workerEntry("agent-host");
}

/** The entry of the CPU pool's threads, as a path (piscina's `filename`). */
export async function computeWorkerUrl(): Promise<string> {
  return fileURLToPath(await workerEntry("compute-task"));
}

// One version of each entry per process: a host rebuilt from newer source
// would speak another protocol than the router this process already runs.
const entries = new Map<string, Promise<string>>();

function workerEntry(name: string): Promise<string> {
  if (!fromSource) return Promise.resolve(new URL(`./workers/${name}.js`, import.meta.url).href);
  let entry = entries.get(name);
  if (!entry) {
    entry = bundleModule(new URL(`../workers/${name}.ts`, import.meta.url).href);
    entries.set(name, entry);
    entry.catch(() => entries.delete(name));
  }
  return entry;
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
  const modulePath = fileURLToPath(moduleUrl);
  const mtime = statSync(modulePath, { throwIfNoEntry: false })?.mtimeMs ?? -1;
  const recent = checks.get(moduleUrl);
  if (!recheck && recent && recent.mtime === mtime && Date.now() - recent.at < RECHECK_AFTER_MS) return recent.bundle;
  // Concurrent adds of one class share one check and one build.
  const check = { bundle: cachedOrBuilt(modulePath), at: Date.now(), mtime };
  checks.set(moduleUrl, check);
  check.bundle.catch(() => checks.get(moduleUrl) === check && checks.delete(moduleUrl)); // a failure is not remembered
  return check.bundle;
}

/**
 * esbuild, loaded on first use: every agent's worker imports this library,
 * and a worker never bundles (loading esbuild there costs time and memory per agent).
 */
function esbuild(): Promise<typeof import("esbuild")> {
  return import("esbuild");
}

async function cachedOrBuilt(modulePath: string): Promise<string> {
  const { version } = await esbuild();
  const key = createHash("sha256")
    .update(`${modulePath}\0${version}\0${libraryEntry.href}\0${bundleFormat}`)
    .digest("hex")
    .slice(0, 16);
  const outfile = join(cacheDir(modulePath), `${basename(modulePath).replace(/\.[^.]+$/, "")}-${key}.mjs`);
  if (!(await isFresh(outfile))) await buildBundle(modulePath, outfile);
  return pathToFileURL(outfile).href;
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

async function isFresh(outfile: string): Promise<boolean> {
  try {
    const record = JSON.parse(await readFile(`${outfile}.json`, "utf8")) as CacheRecord;
    const checks = Object.entries(record.inputs).map(async ([file, mtime]) => (await stat(file)).mtimeMs === mtime);
    return existsSync(outfile) && (await Promise.all(checks)).every(Boolean);
  } catch {
    return false; // no record, or an input is gone
  }
}

async function buildBundle(modulePath: string, outfile: string): Promise<void> {
  await mkdir(dirname(outfile), { recursive: true });
  const temporary = `${outfile}.${process.pid}.${Date.now()}.tmp`;
  const { build } = await esbuild();
  const result = await build({
    entryPoints: [modulePath],
    outfile: temporary,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // npm packages stay imports, resolved at run time from the cache folder like from the module.
    packages: "external",
    // Stack traces map to the source files, which are on disk: no need to carry their text.
    sourcemap: "inline",
    sourcesContent: false,
    metafile: true,
    logLevel: "silent",
    plugins: [sameAgentspace, ownImportMetaUrl],
  });
  const inputs: Record<string, number> = {};
  await Promise.all(
    Object.keys(result.metafile.inputs).map(async (input) => {
      const file = resolve(input);
      inputs[file] = (await stat(file)).mtimeMs;
    }),
  );
  await writeFile(`${outfile}.json`, JSON.stringify({ inputs } satisfies CacheRecord));
  // Rename is atomic: a concurrent process never loads a half-written bundle.
  await rename(temporary, outfile);
}

/**
 * `import … from "agentspace"` in an agent module loads the very library the
 * space runs, whether that is the built package or its source.
 */
const sameAgentspace: Plugin = {
  name: "agentspace-self",
  setup(builder) {
    builder.onResolve({ filter: /^agentspace$/ }, () =>
      fromSource ? { path: fileURLToPath(libraryEntry) } : { path: libraryEntry.href, external: true },
    );
  },
};

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
