import { afterAll, beforeAll, expect, it } from "vitest";
import { AgentNotFoundError, DuplicateAgentError, RedisSpace } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { ChildScript } from "../helpers/child.js";
import { Recorder } from "../helpers/recorder.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const peerScript = new URL("./peer.ts", import.meta.url);

// Three processes, one space: two children each host an agent, this process
// holds a foreground agent. Everything crosses Redis.
describeWithRedis("RedisSpace across processes", probe, () => {
  const namespace = uniqueNamespace("processes");
  const [idB, idC] = ["peer-b", "peer-c"];
  let b: ChildScript;
  let c: ChildScript;
  let space: RedisSpace;
  let me: Recorder;

  beforeAll(async () => {
    b = new ChildScript(peerScript, [namespace, idB, "calculator"]);
    c = new ChildScript(peerScript, [namespace, idC, "calculator"]);
    await Promise.all([b.waitFor(`ready ${idB}`), c.waitFor(`ready ${idC}`)]);
    space = new RedisSpace({ namespace });
    me = await space.addForeground(Recorder, "me");
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
    const refused = new ChildScript(peerScript, [namespace, idC, "calculator"]);
    await refused.waitFor(`refused ${idC}: DuplicateAgentError`);
    expect(await refused.end()).toBe(0);
    await expect(me.request({ to: idC, action: { name: "add", args: { a: 2, b: 2 } } })).resolves.toBe(4);
  });

  it("answers a request to an id no process holds with AgentNotFoundError, at once", async () => {
    const answer = me.request({ to: "nobody", action: { name: "add" } }, { timeoutMs: Infinity });
    await expect(answer).rejects.toBeInstanceOf(AgentNotFoundError);
    await expect(answer).rejects.toThrow(`no agent "nobody" on namespace "${namespace}"`);
  });
});
