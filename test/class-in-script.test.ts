import { expect, it } from "vitest";
import { ChildScript } from "./helpers/child.js";

it("refuses to add a worker agent whose class is defined in the program's own script, naming the fix", async () => {
  const child = new ChildScript(new URL("./fixtures/class-in-script.ts", import.meta.url), []);
  expect(await child.exited).toBe(0);
  expect(child.output).toContain("refused: an agent class is defined in class-in-script.ts, the script this program was started with");
  expect(child.output).toContain("Move the class to a module of its own");
  // The program ran once: no worker ran the script again.
  expect(child.output.match(/started in/g)).toHaveLength(1);
}, 60_000);
