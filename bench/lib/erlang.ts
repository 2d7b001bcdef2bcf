/** bench/savina.erl, run by escript in a fresh VM: the Erlang/OTP side of the savina and million scenarios. */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { withDeadline } from "./deadline.js";

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL("../savina.erl", import.meta.url));

/** Whether `escript` is on PATH (Erlang/OTP installed). */
export function hasErlang(): boolean {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => dir !== "" && existsSync(path.join(dir, "escript")));
}

/** Said when Erlang is absent, with how to get it. */
export const NO_ERLANG = "Erlang: skipped, no escript on PATH (install Erlang/OTP, e.g. apt-get install erlang-nox, or see https://www.erlang.org/downloads)";

/** One run of bench/savina.erl with `args`; parses the JSON line it prints last. */
export async function runErlang<T>(args: readonly (string | number)[], deadlineMs: number): Promise<T> {
  const { stdout } = await withDeadline(run("escript", [SCRIPT, ...args.map(String)]), deadlineMs, "escript bench/savina.erl");
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
}
