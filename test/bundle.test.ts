import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { bundleModule } from "../src/bundle.js";
import { Agent, MultiprocessSpace } from "../src/index.js";

const folder = new URL("./fixtures/generated/", import.meta.url);
const moduleUrl = new URL(`greeter-${process.pid}.ts`, folder);

/** A TypeScript agent module with standard decorators, as a user would write it. */
function greeterSource(greeting: string): string {
  return `import { Agent, action } from "../../../src/index.js";
export class Greeter extends Agent {
  static module = import.meta.url;
  @action({ help: "Greets" })
  greet({ name }: { name: string }): string {
    return \`${greeting}, \${name}\`;
  }
}
`;
}

describe("agent module bundles", () => {
  afterAll(async () => {
    await rm(fileURLToPath(moduleUrl), { force: true });
  });

  it("bundles a TypeScript module once, reuses the cached bundle, and rebuilds it when the source changes", async () => {
    await mkdir(folder, { recursive: true });
    await writeFile(moduleUrl, greeterSource("Hello"));
    const first = await bundleModule(moduleUrl.href);
    expect(first).toMatch(/node_modules\/\.cache\/agentspace\/greeter-\d+-[0-9a-f]{16}\.mjs$/);
    const builtAt = (await stat(fileURLToPath(first))).mtimeMs;

    const again = await bundleModule(moduleUrl.href);
    expect(again).toBe(first);
    expect((await stat(fileURLToPath(again))).mtimeMs).toBe(builtAt);

    await writeFile(moduleUrl, greeterSource("Welcome"));
    const rebuilt = await bundleModule(moduleUrl.href);
    expect(await readFile(fileURLToPath(rebuilt), "utf8")).toContain("Welcome");
  });

  it("runs the bundled class in a worker: decorators lowered, actions work", async () => {
    await mkdir(folder, { recursive: true });
    await writeFile(moduleUrl, greeterSource("Hi"));
    const { Greeter } = (await import(pathToFileURL(fileURLToPath(moduleUrl)).href)) as {
      Greeter: new (id: string) => never;
    };
    const space = new MultiprocessSpace();
    try {
      await space.add(Greeter, "greeter");
      const me = await space.addForeground((await import("../src/index.js")).Agent, "me");
      await expect(me.request({ to: "greeter", action: { name: "greet", args: { name: "Ada" } } })).resolves.toBe("Hi, Ada");
    } finally {
      await space.destroy();
    }
  });

  it("bundles an agent module against the lean runtime, which the worker host shares: not the whole library", async () => {
    await mkdir(folder, { recursive: true });
    await writeFile(moduleUrl, greeterSource("Hey"));
    const bundle = await readFile(fileURLToPath(await bundleModule(moduleUrl.href)), "utf8");
    const imports = [...bundle.matchAll(/^import .* from "([^"]+)";$/gm)].map((match) => match[1]);
    expect(imports).toEqual([expect.stringMatching(/\/thread\.js$/)]);
    expect(bundle).not.toContain("class LocalSpace");
    expect(bundle).toMatch(/\/\/# sourceMappingURL=greeter-\d+-[0-9a-f]{16}\.mjs\.map\n$/); // a map of its own, read only when a stack is
  });

  it("bundles a module that needs more than the runtime (a space inside an agent) with the whole library, and runs it", async () => {
    await mkdir(folder, { recursive: true });
    const nested = new URL(`nester-${process.pid}.ts`, folder);
    await writeFile(
      nested,
      `import { Agent, LocalSpace, action } from "../../../src/index.js";
export class Nester extends Agent {
  static module = import.meta.url;
  @action
  async inner(): Promise<number> {
    await using space = new LocalSpace();
    await space.add(Agent, "inside");
    return space.agents.length;
  }
}
`,
    );
    try {
      const { Nester } = (await import(nested.href)) as { Nester: new (id: string) => never };
      const space = new MultiprocessSpace();
      try {
        await space.add(Nester, "nester");
        const me = await space.addForeground(Agent, "me");
        await expect(me.request({ to: "nester", action: { name: "inner" } })).resolves.toBe(1);
      } finally {
        await space.destroy();
      }
    } finally {
      await rm(fileURLToPath(nested), { force: true });
    }
  });

  it("refuses a module that is not a file: URL", async () => {
    await expect(bundleModule("https://example.com/agent.js")).rejects.toThrow("must be a file: URL");
  });
});
