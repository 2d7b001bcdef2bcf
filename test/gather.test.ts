import { afterEach, describe, expect, it } from "vitest";
import { ActionNotFoundError, LocalSpace, MultiprocessSpace, type Space } from "../src/index.js";
import { Coordinator, Person } from "./fixtures/census.js";

const kinds: Array<[string, () => Space]> = [
  ["LocalSpace", () => new LocalSpace()],
  ["MultiprocessSpace (threads: 2)", () => new MultiprocessSpace({ threads: 2 })],
];

for (const [name, make] of kinds) {
  describe(`gathering answers from many agents in ${name}`, () => {
    let space: Space;
    afterEach(async () => space.destroy());

    it("gathers every agent's answer by id, ending once all have answered; agents without the action say so", async () => {
      space = make();
      const people = Array.from({ length: 200 }, (_, i) => `p${i}`);
      for (const [i, id] of people.entries()) await space.add(Person, id, { sick: i % 10 === 0 });
      await space.add(Coordinator, "coordinator");

      // From outside: every agent of the space is expected, so it ends as soon as the last one answers.
      const gathered = await space.gather<boolean>({ to: "*", action: { name: "infected" } }, { timeoutMs: 30_000 });
      expect(Object.keys(gathered.values).sort()).toEqual([...people].sort());
      expect(Object.values(gathered.values).filter(Boolean)).toHaveLength(20);
      expect(Object.keys(gathered.errors)).toEqual(["coordinator"]);
      expect(gathered.errors.coordinator).toBeInstanceOf(ActionNotFoundError);
      expect(gathered.missing).toEqual([]);

      // From inside an agent, with the ids it expects.
      const census = await space.handle<Coordinator>("coordinator").census({ people });
      expect(Object.keys(census.values)).toHaveLength(200);
      expect(census.missing).toEqual([]);
    });

    it("lists the failed and the ones that did not answer in time", async () => {
      space = make();
      await space.add(Person, "a", { sick: true });
      await space.add(Person, "b", { sick: false });
      const refused = await space.gather({ to: "*", action: { name: "refuse" } });
      expect(Object.keys(refused.errors).sort()).toEqual(["a", "b"]);
      expect(refused.errors.a?.message).toContain("a will not say");
      const late = await space.gather<boolean>({ to: "*", action: { name: "infected" } }, { expect: ["a", "b", "nobody"], timeoutMs: 300 });
      expect(late.values).toEqual({ a: true, b: false });
      expect(late.missing).toEqual(["nobody"]);
    });

    it("gives agents typed handles to each other", async () => {
      space = make();
      await space.add(Person, "a", { sick: true });
      await space.add(Coordinator, "coordinator");
      expect(await space.handle<Coordinator>("coordinator").ask({ id: "a" })).toBe(true);
    });
  });
}

// Compile-time checks, run by `tsc --noEmit` (npm test): never called.
export async function typeChecks(space: Space): Promise<void> {
  // @ts-expect-error Person's constructor requires its init
  await space.add(Person, "p");
  await space.add(Person, "p", { sick: true }, { mailboxSize: 10 });
  await space.add(Coordinator, "c");
  // @ts-expect-error an action Person does not have
  await space.handle<Person>("p").infectd();
}
