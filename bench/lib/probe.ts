/**
 * Probes: scripts under bench/probes that measure in a fresh node process
 * (so that no earlier run's memory or threads hide in their figures) and
 * print one JSON line as their last line of output.
 */
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { withDeadline } from "./deadline.js";

const run = promisify(execFile);

/** Seconds on a quiet machine; two minutes on a loaded one means something is wrong. */
const PROBE_DEADLINE_MS = 120_000;

/** tsx's loader, given explicitly so that a probe runs the same from `npm run bench` and from a test. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

/** Runs probe `name` with `args` and parses its last line. */
export async function runProbe<T>(name: string, args: string[], what: string): Promise<T> {
  const script = fileURLToPath(new URL(`../probes/${name}.ts`, import.meta.url));
  const { stdout } = await withDeadline(
    run(process.execPath, ["--import", TSX_LOADER, script, ...args], { maxBuffer: 1 << 20 }),
    PROBE_DEADLINE_MS,
    what,
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
}
