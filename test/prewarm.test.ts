/** `MultiprocessSpace.prewarm`: threads started ahead of need, taken by later adds, ended by destroy. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { MultiprocessSpace } from "../src/index.js";
import { Calculator } from "./fixtures/calculator.js";

const script = fileURLToPath(new URL("./fixtures/prewarm-and-exit.ts", import.meta.url));

describe("MultiprocessSpace.prewarm", () => {
  let space: MultiprocessSpace | undefined;
  afterEach(async () => {
    await space?.destroy();
  });

  it("starts threads that a burst of adds then takes, each agent in a thread of its own", async () => {
    space = new MultiprocessSpace();
    space.on("error", () => {}); // the crash below is reported: expected
    await space.prewarm(4);
    await Promise.all(["a", "b", "c", "d", "e"].map((id, i) => space!.add(Calculator, id, { start: i })));
    // One more agent than warm threads: the last starts a thread as usual.
    const totals = await Promise.all(["a", "b", "c", "d", "e"].map((id) => space!.handle<Calculator>(id).accumulate({ n: 10 })));
    expect(totals).toEqual([10, 11, 12, 13, 14]);
    // Each agent's state is its own: a crash of one leaves the others.
    await space.handle<Calculator>("a").exit({ code: 1 }).catch(() => undefined);
    await expect(space.handle<Calculator>("b").add({ a: 1, b: 1 })).resolves.toBe(2);
  });

  it("serves agents added with isolate in a space of shared threads", async () => {
    space = new MultiprocessSpace({ threads: 1 });
    await space.prewarm(1);
    await space.add(Calculator, "alone", undefined, { isolate: true });
    await space.add(Calculator, "shared");
    await expect(space.handle<Calculator>("alone").add({ a: 1, b: 2 })).resolves.toBe(3);
    await expect(space.handle<Calculator>("shared").add({ a: 2, b: 2 })).resolves.toBe(4);
  });

  it("refuses a count that is not a positive whole number, and a destroyed space", async () => {
    space = new MultiprocessSpace();
    for (const count of [0, -1, 1.5, Number.NaN]) await expect(space.prewarm(count)).rejects.toBeInstanceOf(RangeError);
    await space.destroy();
    await expect(space.prewarm(1)).rejects.toThrow("destroyed");
  });

  it("ends the threads nobody took when the space is destroyed: the process exits by itself", async () => {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", script], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout.on("data", (chunk) => (output += chunk));
      child.stderr.on("data", (chunk) => (output += chunk));
      child.on("error", reject);
      child.on("exit", (code) => resolve({ code, output }));
    });
    expect(output).toContain("destroyed with warm threads left; sum 5");
    expect(code).toBe(0);
  }, 60_000);
});
