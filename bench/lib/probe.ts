/**
 * Probes: scripts under bench/probes that measure in a fresh node process
 * (so that no earlier run's memory or threads hide in their figures) and
 * print one JSON line as their last line of output.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { withDeadline } from "./deadline.js";
import { loaderFlags } from "./library.js";

const run = promisify(execFile);

/** Seconds on a quiet machine; two minutes on a loaded one means something is wrong. */
const PROBE_DEADLINE_MS = 120_000;

export interface ProbeOptions {
  /** Node flags before the loader's, e.g. --expose-gc. */
  nodeFlags?: string[];
  /** For a probe that is long by design (a million agents). */
  deadlineMs?: number;
}

/** Runs probe `name` with `args` and parses its last line. */
export async function runProbe<T>(name: string, args: string[], what: string, options: ProbeOptions = {}): Promise<T> {
  const script = fileURLToPath(new URL(`../probes/${name}.ts`, import.meta.url));
  const { stdout } = await withDeadline(
    run(process.execPath, [...(options.nodeFlags ?? []), ...loaderFlags(), script, ...args], { maxBuffer: 1 << 20 }),
    options.deadlineMs ?? PROBE_DEADLINE_MS,
    what,
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
}
