/**
 * What every space that spans processes must show: three processes, one
 * space. Two children each host an agent, this process holds a foreground
 * agent, and everything crosses the broker or store between them.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { AgentNotFoundError, DuplicateAgentError, type Space } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import type { ChildScript } from "../helpers/child.js";
import { Recorder } from "../helpers/recorder.js";

export interface ProcessesSetup {
  /** The two agents the children host, and an id no process holds. */
  ids: { b: string; c: string; nobody: string; me: string };
  /** Starts a child process that hosts a Calculator as `id` (or says it was refused). */
  peer(id: string): ChildScript;
  /** A space of this process on the same broker or namespace. */
  space(): Space;
  /** How the space names where it lives, as its errors say it: `exchange "x"`, `namespace "y"`. */
  where: string;
}

/** Registers the tests; call inside the describe that checks the server is there. */
export function acrossProcesses(setup: ProcessesSetup): void {
  const { b: idB, c: idC, nobody } = setup.ids;
  let b: ChildScript;
  let c: ChildScript;
  let space: Space;
  let me: Recorder;

  beforeAll(async () => {
    b = setup.peer(idB);
    c = setup.peer(idC);
    await Promise.all([b.waitFor(`ready ${idB}`), c.waitFor(`ready ${idC}`)]);
    space = setup.space();
    me = await space.addForeground(Recorder, setup.ids.me);
  }, 60_000);

  afterAll(async () => {
    await space?.destroy();
    const codes = await Promise.all([b?.end(), c?.end()]);
    expect(codes).toEqual([0, 0]);
  }, 60_000);

  it("answers a request to an agent in another process", async () => {
    await expect(me.request({ to: idB, action: { name: "add", args: { a: 1, b: 2 } } })).resolves.toBe(3);
  });

  it("lets an agent in one child process request an agent in the other", async () => {
    const value = await me.request({ to: idC, action: { name: "askOther", args: { to: idB, name: "add", args: { a: 20, b: 22 } } } });
    expect(value).toBe(42);
  });

  it("delivers a broadcast to every process", async () => {
    me.send({ to: "*", action: { name: "accumulate", args: { n: 1 } } });
    await me.until(() => me.values.filter((value) => value === 1).length === 2);
    expect(me.notes).toEqual([]); // nobody sent `note`; the broadcast reached `me` and was ignored (no such action)
  });

  it("refuses an id that another process holds, and keeps working", async () => {
    await expect(space.add(Calculator, idB)).rejects.toBeInstanceOf(DuplicateAgentError);
    await expect(space.add(Calculator, idB)).rejects.toThrow("held elsewhere");
    const refused = setup.peer(idC);
    await refused.waitFor(`refused ${idC}: DuplicateAgentError`);
    expect(await refused.end()).toBe(0);
    await expect(me.request({ to: idC, action: { name: "add", args: { a: 2, b: 2 } } })).resolves.toBe(4);
  });

  it("answers a request to an id no process holds with AgentNotFoundError, at once", async () => {
    const answer = me.request({ to: nobody, action: { name: "add" } }, { timeoutMs: Infinity });
    await expect(answer).rejects.toBeInstanceOf(AgentNotFoundError);
    await expect(answer).rejects.toThrow(`no agent "${nobody}" on ${setup.where}`);
  });
}
