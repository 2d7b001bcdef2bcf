/**
 * `npm run bench -- --packed`: the bench against the library as users get
 * it, the npm package, since what only the built package does (a worker's
 * start-up from dist/, the files it ships) is invisible from the source tree.
 *
 * Packs this repo (`npm pack` runs the `prepare` build, which rebuilds
 * dist/), installs the tarball and tsx into a fresh ESM project in a temp
 * dir, and runs the same command line again in a child process whose every
 * "agentspace" is that installed package (packed-loader.mjs); the child's
 * probes load the same way (library.ts), and agent bundles follow the
 * installed bundler. The temp dir goes when the child has ended.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loaderFlags, PACKED_ENV } from "./library.js";

const run = promisify(execFile);
const REPO = fileURLToPath(new URL("../..", import.meta.url));
const RUN_SCRIPT = fileURLToPath(new URL("../run.ts", import.meta.url));
/** The tsx this repo runs the bench with, so that the TypeScript is lowered the same way in both runs. */
const TSX_VERSION = (createRequire(import.meta.url)("tsx/package.json") as { version: string }).version;

/** Packs, installs, runs `argv` against the installed package; resolves with the bench's exit code. */
export async function runPacked(argv: readonly string[]): Promise<number> {
  const project = await mkdtemp(path.join(tmpdir(), "agentspace-packed-"));
  try {
    let entry: string;
    try {
      entry = await install(project, await pack(project));
    } catch (error) {
      // A failed build or install is a failed run, not a bad command line.
      console.error(`packed: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    console.error(`packed: "agentspace" is ${fileURLToPath(entry)}`);
    return await rerun(argv, entry);
  } finally {
    await rm(project, { recursive: true, force: true });
  }
}

/** `npm pack` of the repo into `dir`: the tarball's path. */
async function pack(dir: string): Promise<string> {
  console.error("packed: building and packing the repo (npm pack)…");
  await run("npm", ["pack", "--pack-destination", dir], { cwd: REPO, maxBuffer: 16 << 20 });
  const tarball = (await readdir(dir)).find((name) => name.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`npm pack left no tarball in ${dir}`);
  return path.join(dir, tarball);
}

/** Installs `tarball` and tsx into a fresh ESM project in `dir`; the file: URL "agentspace" resolves to there. */
async function install(dir: string, tarball: string): Promise<string> {
  console.error(`packed: installing ${path.basename(tarball)} and tsx@${TSX_VERSION}…`);
  await writeFile(path.join(dir, "package.json"), `${JSON.stringify({ name: "agentspace-packed-bench", private: true, type: "module" })}\n`);
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, `tsx@${TSX_VERSION}`], { cwd: dir, maxBuffer: 16 << 20 });
  // Node's own resolution from the project, as a user's `import "agentspace"` there would get it.
  const { stdout } = await run(process.execPath, ["--input-type=module", "--eval", `process.stdout.write(import.meta.resolve("agentspace"))`], { cwd: dir });
  return stdout;
}

/** The bench again, in a child process that loads "agentspace" from `entry`. */
function rerun(argv: readonly string[], entry: string): Promise<number> {
  // A flag a figure needs (--expose-gc, for heap readings) goes to the child too.
  const kept = process.execArgv.filter((flag) => flag === "--expose-gc");
  const child = spawn(process.execPath, [...kept, ...loaderFlags(entry), RUN_SCRIPT, ...argv], {
    cwd: REPO,
    stdio: "inherit",
    env: { ...process.env, [PACKED_ENV]: entry },
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1)); // killed by a signal: a failed run
  });
}
