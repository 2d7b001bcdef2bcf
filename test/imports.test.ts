/**
 * The shape of the library's imports, kept by madge: no circle anywhere in
 * src/ or workers/, and a floor that imports nothing above it. What an agent
 * module imports (src/runtime.ts) and what a worker thread loads
 * (workers/agent-host.ts) reach the agent runtime and its host only: no space,
 * broker, inspector, node, live-reload or CLI code, nor the bundler.
 */
import { readFileSync } from "node:fs";
import madge from "madge";
import { beforeAll, describe, expect, it } from "vitest";

/** Features and main-thread tooling: none of it belongs under a worker or an agent module. */
const ABOVE_THE_FLOOR = [
  /^src\/(spaces|inspector|nodes|amqp|redis|cli|live)\//,
  /^src\/(index|space|own-thread|supervisor|router|bundle|compute|extension)\.ts$/,
  /^src\/telemetry\/(metrics|serve)\.ts$/,
];

let graph: Record<string, string[]>;
let circles: string[][];

beforeAll(async () => {
  const result = await madge(["src", "workers"], { fileExtensions: ["ts"], tsConfig: "tsconfig.json" });
  graph = result.obj();
  circles = result.circular();
}, 60_000);

/** Every file `entry` imports, directly or not (type-only imports included). */
function reachedFrom(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    stack.push(...(graph[file] ?? []));
  }
  return [...seen].sort();
}

describe("imports", () => {
  it("form no circle in src/ or workers/", () => {
    expect(circles).toEqual([]);
  });

  it("never name @opentelemetry/api, an optional peer: a program without it must load and typecheck", () => {
    const naming = Object.keys(graph).filter((file) => /from\s+["']@opentelemetry\//.test(readFileSync(file, "utf8")));
    expect(naming).toEqual([]);
  });

  it.each(["src/runtime.ts", "workers/agent-host.ts", "workers/compute-task.ts"])("from %s reach the agent runtime only", (entry) => {
    const reached = reachedFrom(entry);
    expect(reached).toContain(entry); // the graph knows the file: an empty reach proves nothing
    expect(reached.filter((file) => ABOVE_THE_FLOOR.some((pattern) => pattern.test(file)))).toEqual([]);
  });
});
