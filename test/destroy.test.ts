import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const script = fileURLToPath(new URL("./fixtures/destroy-and-exit.ts", import.meta.url));

/** Runs the script in a fresh Node process; resolves with its exit code and output once it exits by itself. */
function runToExit(kind: string, flags: string[] = []): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, "--import", "tsx", script, kind], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("destroy", () => {
  // If a worker, port or timer were left alive, the child would never exit and the test would time out.
  it.each(["local", "multiprocess"])("leaves nothing alive in a %s space: the process exits by itself", async (kind) => {
    const { code, output } = await runToExit(kind);
    expect(output).toContain("destroyed after sum 3; the waiting request ended with AgentNotFoundError");
    expect(code).toBe(0);
  });

  // Workers refuse V8 flags: a process started with them still starts its agents' threads.
  it("starts worker agents in a process run with V8 flags (--expose-gc, --max-old-space-size)", async () => {
    const { code, output } = await runToExit("multiprocess", ["--expose-gc", "--max-old-space-size=512"]);
    expect(output).toContain("destroyed after sum 3");
    expect(code).toBe(0);
  });
});
