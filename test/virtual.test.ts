import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Agent, LocalSpace, MultiprocessSpace, type Space } from "../src/index.js";
import { Account, Journal } from "./fixtures/accounts.js";

const dir = mkdtempSync(join(tmpdir(), "agentspace-virtual-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `agents-${++files}.db`);

/** Resolves once `id` has left the space (passivated). */
function passivated(space: Space, id: string): Promise<void> {
  return new Promise((resolve) => {
    const look = (gone: string) => {
      if (gone !== id) return;
      space.off("agent:removed", look);
      resolve();
    };
    space.on("agent:removed", look);
  });
}

describe("virtual agents", () => {
  const spaces: Space[] = [];
  const open = <S extends Space>(space: S): S => {
    spaces.push(space);
    return space;
  };
  afterEach(async () => {
    await Promise.all(spaces.splice(0).map((space) => space.destroy()));
  });

  it("LocalSpace with a store: a deposit activates acct:1; idle, it leaves space.agents; the next deposit sees the old balance", async () => {
    const space = open(new LocalSpace({ store: freshFile() }));
    space.virtual(Account, { prefix: "acct:", idleMs: 200 });
    expect(space.agents).toEqual([]);
    const gone = passivated(space, "acct:1");
    expect(await space.handle<Account>("acct:1").deposit({ n: 5 })).toBe(5);
    // Listed once its activation has settled (its first message may be answered before).
    await expect.poll(() => space.agents).toContain("acct:1");
    await gone;
    expect(space.agents).not.toContain("acct:1");
    // Counted by class name, as metrics label them (the class's own name, as its module made it).
    const name = Account.name;
    await expect.poll(() => space.virtualStats()).toEqual({ [name]: { active: 0, activations: 1, passivations: 1 } });
    expect(await space.handle<Account>("acct:1").deposit({ n: 2 })).toBe(7);
    await expect.poll(() => space.virtualStats()[name]?.active).toBe(1);
    expect(space.virtualStats()).toEqual({ [name]: { active: 1, activations: 2, passivations: 1 } });
    const text = await space.metrics();
    expect(text).toContain(`agentspace_activations_total{agent_class="${name}"} 2`);
    expect(text).toContain(`agentspace_passivations_total{agent_class="${name}"} 1`);
  });

  it("keeps the order of what waits while an id activates", async () => {
    const space = open(new MultiprocessSpace({ store: freshFile(), threads: 2 }));
    space.virtual(Journal, { prefix: "journal:" });
    const me = await space.addForeground(Agent, "me");
    for (let x = 0; x < 99; x++) me.send({ to: "journal:a", action: { name: "append", args: { x } } });
    expect(await me.request({ to: "journal:a", action: { name: "append", args: { x: 99 } } })).toBe(100);
    expect(await space.handle<Journal>("journal:a").read()).toEqual(Array.from({ length: 100 }, (_, x) => x));
  });

  it('threads: "auto": 2,000 ids touched once all answer; idle, almost none stays; touched again, each answers from its kept state', async () => {
    const space = open(new MultiprocessSpace({ store: freshFile(), threads: "auto" }));
    space.virtual(Journal, { prefix: "j:", idleMs: 500 });
    const ids = Array.from({ length: 2_000 }, (_, i) => `j:${i}`);
    const first = await Promise.all(ids.map((id, i) => space.handle<Journal>(id).append({ x: i })));
    expect(first.every((length) => length === 1)).toBe(true);
    await expect.poll(() => space.agents.length, { timeout: 30_000, interval: 100 }).toBeLessThan(20);
    const again = await Promise.all(ids.map((id) => space.handle<Journal>(id).read()));
    expect(again.every((entries, i) => entries.length === 1 && entries[0] === i)).toBe(true);
  }, 90_000);

  for (const [name, make] of [
    ["LocalSpace", (store: string) => new LocalSpace({ store })],
    ["MultiprocessSpace (threads: 1)", (store: string) => new MultiprocessSpace({ store, threads: 1 })],
  ] as const) {
    it(`loses nothing sent while an instance passivates, from outside or from a thread-mate (${name})`, async () => {
      const space = open(make(freshFile()));
      space.virtual(Journal, { prefix: "j:", idleMs: 20 });
      let passivations = 0;
      space.on("lifecycle", (event) => event.type === "removed" && event.cause === "passivated" && passivations++);
      const sent: number[] = [];
      for (let x = 0; x < 150; x++) {
        // Gaps around the idle time: many messages arrive as an instance is passivating, or just after.
        await new Promise((resolve) => setTimeout(resolve, (x * 7) % 45));
        await space.handle<Journal>("j:a").forward({ to: "j:b", x });
        sent.push(x);
      }
      expect(await space.handle<Journal>("j:b").read()).toEqual(sent);
      expect(passivations).toBeGreaterThan(10);
    }, 60_000);
  }

  it("reaches only active instances with a broadcast, and refuses overlapping prefixes", async () => {
    const space = open(new LocalSpace({ store: freshFile() }));
    space.virtual(Journal, { prefix: "journal:" });
    await space.handle<Journal>("journal:a").hello();
    await space.handle<Journal>("journal:b").hello();
    await expect.poll(() => space.agents.length).toBe(2);
    const { values } = await space.gather<string>({ to: "*", action: { name: "hello" } });
    expect(Object.keys(values).sort()).toEqual(["journal:a", "journal:b"]);
    expect(() => space.virtual(Account, { prefix: "journal:x" })).toThrow('the prefix "journal:x" overlaps "journal:" (Journal)');
    expect(() => space.virtual(Account, { prefix: "" })).toThrow("needs a prefix");
  });
});
