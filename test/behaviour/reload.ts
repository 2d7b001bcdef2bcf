/**
 * Live reload (`space.reload`), run once per space: a module is written to a
 * temporary folder, its agents added, the file rewritten, and the running
 * agents swapped to the new code under load.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Agent, PermissionDeniedError, ReloadError, type AgentClass, type Space, type SpaceOptions } from "../../src/index.js";
import { nextVersion } from "../../src/bundle.js";
import { loadClass } from "../../src/exported-class.js";
import { tallySource, type TallyVersion } from "../fixtures/reloadable.js";
import { Recorder } from "../helpers/recorder.js";

// Inside this package (not the system's temp folder): the npm packages a bundle leaves as imports resolve from here.
const scratch = fileURLToPath(new URL("../../node_modules/.cache/agentspace-tests/", import.meta.url));
mkdirSync(scratch, { recursive: true });
/** A fresh folder for each run of the suite (a file may run it for several spaces). */
let folder = "";
let modules = 0;

/** A fresh module file holding `version` of Tally; `write` rewrites it as another version. */
function tallyModule(version: TallyVersion): { path: string; write(next: TallyVersion): void } {
  const path = join(folder, `tally-${process.pid}-${++modules}.ts`);
  const write = (next: TallyVersion): void => writeFileSync(path, tallySource(next));
  write(version);
  return { path, write };
}

/** The class a module file exports now, loaded in this thread (as the CLI loads modules). */
async function load(path: string): Promise<AgentClass> {
  const { bundleUrl } = await nextVersion(pathToFileURL(path).href);
  return loadClass<AgentClass>(bundleUrl, "Tally");
}

interface Read {
  version: number;
  count: number;
  outOfOrder: number;
  restoredFrom: unknown;
}

/** Tally's actions, and those the tests define on it: the class itself is only known at run time. */
interface TallyActions extends Agent {
  add(args: { from: string; seq: number }): number;
  read(): Read | string;
  slow(args: { ms: number }): number;
  triple(args: { n: number }): number;
  doubled(): number;
}

export function describeReload(name: string, makeSpace: (options?: SpaceOptions) => Space): void {
  describe(`${name}: live reload`, () => {
    let space: Space;
    let me: Recorder;

    beforeEach(async () => {
      space = makeSpace();
      me = await space.addForeground(Recorder, "me");
    });

    afterEach(async () => {
      await space.destroy();
    });

    beforeAll(() => {
      folder = mkdtempSync(join(scratch, "reload-"));
    });
    afterAll(() => rmSync(folder, { recursive: true, force: true }));

    const read = (id: string): Promise<Read> => space.handle<TallyActions>(id).read() as Promise<Read>;

    it("swaps three agents while 10,000 messages flow: none lost, order kept, state carried, new code at once", async () => {
      const module = tallyModule({ version: 1 });
      const Tally = await load(module.path);
      const ids = ["t1", "t2", "t3"];
      for (const id of ids) await space.add(Tally, id);
      const senders = [me, await space.addForeground(Agent, "sender")];
      module.write({ version: 2 });

      const total = 10_000;
      const seq = new Map<string, number>();
      const answers: Array<{ pair: string; version: Promise<number> }> = [];
      const sendOne = (i: number): void => {
        const sender = senders[i % senders.length]!;
        const to = ids[i % ids.length]!;
        const pair = `${sender.id}→${to}`;
        const next = seq.get(pair) ?? 0;
        seq.set(pair, next + 1);
        answers.push({ pair, version: sender.request<number>({ to, action: { name: "add", args: { from: sender.id, seq: next } } }) });
      };
      let sent = 0;
      let reloading: Promise<unknown> | undefined;
      let reloaded = false;
      let batchesAfter = 0;
      // Keeps sending, a hundred at a time, until 10,000 are out and the reload is over (and some more after).
      while (sent < total || batchesAfter < 2) {
        if (reloaded) batchesAfter++;
        for (let i = 0; i < 100; i++) sendOne(sent++);
        if (!reloading && sent >= total / 4) reloading = space.reload(module.path).finally(() => (reloaded = true));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const report = await reloading;
      expect(report).toEqual({ module: pathToFileURL(module.path).href, agents: ids });

      const versions = await Promise.all(answers.map((answer) => answer.version));
      expect(versions).toHaveLength(sent);
      // Per sender and receiver: old code, then new code, never back.
      const seen = new Map<string, number>();
      versions.forEach((version, i) => {
        const { pair } = answers[i]!;
        expect(version).toBeGreaterThanOrEqual(seen.get(pair) ?? 1);
        seen.set(pair, version);
      });
      expect(versions).toContain(2);
      for (const id of ids) expect(space.agents).toContain(id);
      let counted = 0;
      for (const id of ids) {
        const state = await read(id);
        expect(state.version).toBe(2);
        expect(state.outOfOrder).toBe(0);
        counted += state.count;
      }
      expect(counted).toBe(sent);
    });

    it("an action already running finishes on the old code; what waited runs on the new", async () => {
      const module = tallyModule({ version: 1 });
      await space.add(await load(module.path), "t");
      const running = space.handle<TallyActions>("t").slow({ ms: 100 });
      // Taken by the agent (on a broker the message goes round first), so it is the one already running.
      await expect.poll(() => space.stats().t?.received ?? 0).toBeGreaterThan(0);
      module.write({ version: 2 });
      const reloading = space.reload(module.path);
      expect(await running).toBe(1);
      await reloading;
      expect(await space.handle<TallyActions>("t").slow({ ms: 1 })).toBe(2);
    });

    it("a new version whose constructor throws leaves the old one serving, and says why", async () => {
      const module = tallyModule({ version: 1 });
      await space.add(await load(module.path), "t");
      await space.handle<TallyActions>("t").add({ from: "me", seq: 0 });
      module.write({ version: 2, constructorThrows: true });
      const during = space.handle<TallyActions>("t").add({ from: "me", seq: 1 });
      const failure = await space.reload(module.path).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ReloadError);
      expect((failure as Error).message).toMatch(/"t" keeps its old version.*version 2 cannot start/);
      expect(await during).toBe(1);
      expect(await read("t")).toMatchObject({ version: 1, count: 2, outOfOrder: 0 });
      module.write({ version: 3 });
      await space.reload(module.path);
      expect(await read("t")).toMatchObject({ version: 3, count: 2 });
    });

    it("carries state through snapshot() and restore(state) when the class defines them", async () => {
      const module = tallyModule({ version: 1, snapshot: true });
      await space.add(await load(module.path), "t");
      await space.handle<TallyActions>("t").add({ from: "me", seq: 0 });
      module.write({ version: 2, snapshot: true });
      await space.reload(module.path);
      expect(await read("t")).toMatchObject({ version: 2, count: 1001, restoredFrom: 1 });
    });

    it("stops the loops of the old instance and starts them on the new code", async () => {
      const module = tallyModule({ version: 1, loop: true });
      await space.add(await load(module.path), "t", { observer: "me" } as never);
      await me.until(() => me.notes.includes("loop v1"));
      module.write({ version: 2, loop: true });
      await space.reload(module.path);
      await me.until(() => me.notes.includes("loop v2"));
      expect(me.notes.filter((note) => note === "loop v1")).toHaveLength(1);
      expect(space.stats()["t"]?.loops).toBe(1);
    });

    it("takes the new code of a file the module imports, edited just before the reload", async () => {
      const helper = join(folder, `helper-${process.pid}-${++modules}.ts`);
      const module = join(folder, `uses-helper-${process.pid}-${modules}.ts`);
      writeFileSync(helper, `export const word = "before";\n`);
      writeFileSync(
        module,
        [
          `import { Agent, action } from "agentspace";`,
          `import { word } from ${JSON.stringify(`./${helper.split("/").pop()}`)};`,
          `export class Tally extends Agent {`,
          `  static module = import.meta.url;`,
          `  @action read() { return word; }`,
          `}`,
        ].join("\n"),
      );
      await space.add(await load(module), "t");
      expect(await space.handle<TallyActions>("t").read()).toBe("before");
      writeFileSync(helper, `export const word = "after";\n`);
      await space.reload(module);
      expect(await space.handle<TallyActions>("t").read()).toBe("after");
    });

    it("reloads by class, and refuses what names no module", async () => {
      const module = tallyModule({ version: 1 });
      const Tally = await load(module.path);
      await space.add(Tally, "t");
      module.write({ version: 2 });
      expect((await space.reload(Tally)).agents).toEqual(["t"]);
      expect((await read("t")).version).toBe(2);
      class Bare extends Agent {}
      await expect(space.reload(Bare)).rejects.toThrow(/no static module/);
    });

    it("defineAction adds an action to a running agent of a debug space; help lists it, a reload keeps it", async () => {
      const debugging = makeSpace({ debug: true });
      try {
        const module = tallyModule({ version: 1 });
        await debugging.add(await load(module.path), "t");
        const t = debugging.handle<TallyActions>("t");
        await t.add({ from: "me", seq: 0 });
        expect(await debugging.defineAction("t", "triple", "({ n }) => n * 3", { help: "Three times n" })).toEqual(["triple"]);
        expect(await t.triple({ n: 2 })).toBe(6);
        expect(await debugging.defineAction("t", "doubled", "function () { return this.count * 2; }")).toEqual(["triple", "doubled"]);
        expect(await t.doubled()).toBe(2);
        expect(await t.help()).toHaveProperty("triple.description", "Three times n");
        // Replaces the class's own `read` until a version of the class defines it again.
        await debugging.defineAction("t", "read", "() => 'defined'");
        expect(await t.read()).toBe("defined");
        module.write({ version: 2 });
        await debugging.reload(module.path);
        expect(await t.triple({ n: 3 })).toBe(9);
        expect(await t.doubled()).toBe(2);
        expect(await t.read()).toMatchObject({ version: 2, count: 1 });
        await expect(debugging.defineAction("t", "send", "() => 1")).rejects.toThrow(/"send" is already a member of agent "t" that is not an action/);
        await expect(debugging.defineAction("t", "bad name", "() => 1")).rejects.toThrow(TypeError);
      } finally {
        await debugging.destroy();
      }
    });

    it("defineAction is refused in a space without debug", async () => {
      const module = tallyModule({ version: 1 });
      await space.add(await load(module.path), "t");
      await expect(space.defineAction("t", "triple", "({ n }) => n * 3")).rejects.toThrow(PermissionDeniedError);
      await expect(space.handle<TallyActions>("t").triple({ n: 1 })).rejects.toThrow(/"triple" not found/);
    });
  });
}
