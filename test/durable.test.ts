import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { LocalSpace, MessageValidationError, MultiprocessSpace, StateFencedError, type Space } from "../src/index.js";
import { StateFile } from "../src/state-file.js";
import { Account, Ledger } from "./fixtures/accounts.js";
import { ChildScript } from "./helpers/child.js";

const dir = mkdtempSync(join(tmpdir(), "agentspace-durable-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `agents-${++files}.db`);

const kinds: Array<[string, (store: string) => Space]> = [
  ["LocalSpace", (store) => new LocalSpace({ store })],
  ["MultiprocessSpace (own threads)", (store) => new MultiprocessSpace({ store })],
  ["MultiprocessSpace (threads: 2)", (store) => new MultiprocessSpace({ store, threads: 2 })],
];

for (const [name, make] of kinds) {
  describe(`durable agents in ${name} with a store file`, () => {
    const spaces: Space[] = [];
    const open = (store: string) => {
      const space = make(store);
      spaces.push(space);
      return space;
    };
    afterEach(async () => {
      await Promise.all(spaces.splice(0).map((space) => space.destroy()));
    });

    it("restores the state on the next add of the id, after destroy, in a new space on the same file", async () => {
      const store = freshFile();
      const first = open(store);
      await first.add(Account, "acct");
      await first.add(Ledger, "ledger");
      await first.handle<Account>("acct").deposit({ n: 5 });
      await first.handle<Account>("acct").deposit({ n: 7 });
      await first.handle<Ledger>("ledger").put({ key: "a", value: 1 });
      await first.destroy();
      const second = open(store);
      await second.add(Account, "acct");
      await second.add(Ledger, "ledger");
      expect(await second.handle<Account>("acct").read()).toMatchObject({ balance: 12, deposits: 2 });
      // Kept through snapshot()/restore(): a Map, which JSON cannot carry as a field.
      expect(await second.handle<Ledger>("ledger").get({ key: "a" })).toBe(1);
    });

    it("leaves no trace of an action that failed, nor of one that left a state JSON cannot carry (refused, naming the path)", async () => {
      const space = open(freshFile());
      await space.add(Account, "acct");
      const account = space.handle<Account>("acct");
      await account.deposit({ n: 5 });
      await expect(account.depositThenFail({ n: 100 })).rejects.toThrow("failed after changing the balance");
      const refused = account.keepDate();
      await expect(refused).rejects.toBeInstanceOf(MessageValidationError);
      await expect(refused).rejects.toThrow('the state of durable agent "acct" cannot be kept: state.opened: Date cannot travel as JSON');
      expect(await account.read()).toMatchObject({ balance: 5, deposits: 1 });
      expect(await account.deposit({ n: 1 })).toBe(6);
    });

    it("deletes the state at remove: the next add of the id starts afresh", async () => {
      const store = freshFile();
      const space = open(store);
      await space.add(Account, "acct");
      await space.handle<Account>("acct").deposit({ n: 5 });
      await space.remove("acct");
      await space.add(Account, "acct");
      expect(await space.handle<Account>("acct").read()).toMatchObject({ balance: 0, deposits: 0 });
    });
  });
}

describe("durable agents: restarts, runs, refusals", () => {
  const spaces: Space[] = [];
  afterEach(async () => {
    await Promise.all(spaces.splice(0).map((space) => space.destroy()));
  });

  it("restores the state into the instance that a restart policy starts after its thread died", async () => {
    const space = new MultiprocessSpace({ store: freshFile() });
    spaces.push(space);
    space.on("error", () => {}); // the crash is reported: expected
    const restarted = new Promise<void>((resolve) => space.on("lifecycle", (event) => event.type === "restarted" && resolve()));
    await space.add(Account, "acct", undefined, { restart: "on-failure", backoffMs: 0 });
    const account = space.handle<Account>("acct");
    await account.deposit({ n: 9 });
    await account.exitSoon({ code: 3 });
    await restarted;
    expect(await account.read()).toMatchObject({ balance: 9, deposits: 1 });
  });

  for (const where of ["local", "threads"]) {
    it(`keeps what a run wrote for the next run of the program, which ended without destroy (${where})`, async () => {
      const store = freshFile();
      const script = new URL("./fixtures/durable-run.ts", import.meta.url);
      const first = new ChildScript(script, [store, where, "5"]);
      expect(await first.exited).toBe(0);
      expect(first.output).toContain("balance 5");
      const second = new ChildScript(script, [store, where, "3"]);
      expect(await second.exited).toBe(0);
      expect(second.output).toContain("balance 8");
    }, 60_000);
  }

  it("refuses a durable class in a space with no store, naming how to give one", async () => {
    const space = new LocalSpace();
    spaces.push(space);
    await expect(space.add(Account, "acct")).rejects.toThrow(
      'Account is durable (static durable = true), but this LocalSpace keeps no states: give it a store file, as in new LocalSpace({ store: "./agents.db" })',
    );
    expect(space.agents).toEqual([]);
  });

  it("refuses the writes of an instance whose id another space took on the same file, and stops it", async () => {
    const store = freshFile();
    const first = new LocalSpace({ store });
    const second = new LocalSpace({ store });
    spaces.push(first, second);
    const errors: Error[] = [];
    first.on("error", (error) => errors.push(error));
    await first.add(Account, "acct");
    await first.handle<Account>("acct").deposit({ n: 5 });
    await second.add(Account, "acct");
    await expect(first.handle<Account>("acct").deposit({ n: 100 })).rejects.toBeInstanceOf(StateFencedError);
    await expect.poll(() => first.agents).toEqual([]);
    expect(errors.some((error) => error instanceof StateFencedError)).toBe(true);
    expect(await second.handle<Account>("acct").deposit({ n: 1 })).toBe(6);
    const file = StateFile.open(store);
    try {
      expect(file.states().get("acct")).toEqual({ balance: 6, deposits: 2 });
    } finally {
      file.close();
    }
  });
});
