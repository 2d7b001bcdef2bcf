import { expect, it } from "vitest";
import { ChildScript } from "./helpers/child.js";

it("refuses an add when the heap is nearly full, naming the flag to raise, and stays usable", async () => {
  const child = new ChildScript(new URL("./fixtures/heap-full.ts", import.meta.url), [], { NODE_OPTIONS: "--max-old-space-size=128" });
  expect(await child.exited).toBe(0);
  expect(child.output).toMatch(/refused after \d+ agents: no room for another agent: the main thread's heap is [\d,]+ of its [\d,]+ MB full, with [\d,]+ agents/);
  expect(child.output).toContain("--max-old-space-size=");
  expect(child.output).toContain("destroyed");
}, 60_000);
