import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = fileURLToPath(new URL("..", import.meta.url));

describe("npm run bench", () => {
  // The benchmarks measure nothing here (that is `npm run bench`'s job); this proves they still run.
  it("runs every scenario in a quick smoke run and prints each table", async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/run.ts", "--quick"], {
      cwd: root,
      maxBuffer: 16 << 20,
      timeout: 420_000,
    });
    for (const name of ["ports", "round-trip", "comlink", "piscina", "in-thread", "spawn", "throughput", "latency", "fan-out", "add", "swarm", "swarm-scale", "loops", "redis", "direct", "durable", "exchange", "virtual", "nodes", "curves"]) {
      expect(stdout).toContain(`## ${name}:`);
    }
    expect(stdout).not.toContain("FAILED");
  }, 480_000);
});
