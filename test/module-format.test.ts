import { createRequire } from "node:module";
import { expect, it } from "vitest";
import { Agent, MultiprocessSpace } from "../src/index.js";

it("says how to fix a CommonJS project that requires agentspace, instead of ERR_PACKAGE_PATH_NOT_EXPORTED", () => {
  // The package's own name resolves through its exports, as it does in a user's project.
  const require = createRequire(import.meta.url);
  expect(() => require("agentspace")).toThrow('agentspace is an ES module, and this code loads it as CommonJS (require)');
  expect(() => require("agentspace")).toThrow('add "type": "module" to its package.json');
});

it("says that an agent module ran as CommonJS when its static module (import.meta.url) is empty", async () => {
  // What `static module = import.meta.url` holds in a module compiled as CommonJS.
  class Compiled extends Agent {
    static module = undefined as unknown as string;
  }
  const space = new MultiprocessSpace();
  try {
    await expect(space.add(Compiled, "c")).rejects.toThrow(
      "Compiled's static module is undefined: import.meta.url was empty, so its module ran as CommonJS",
    );
  } finally {
    await space.destroy();
  }
});
