import { expect, it } from "vitest";
import { AgentNotFoundError } from "../../src/index.js";
import { Echo, Plodder } from "../fixtures/node-agents.js";
import { describeWithRedis, probeRedis } from "../helpers/redis.js";
import { useCluster, until } from "./cluster.js";

const probe = await probeRedis();

describeWithRedis("a node that dies", probe, () => {
  const cluster = useCluster();

  it("kill -9 with 1,000 requests in flight: every request completes, and its agents run on the other nodes", { timeout: 120_000 }, async () => {
    const c = cluster();
    const [n1, n2, n3] = await c.start(["n1", "n2", "n3"], 10);
    const ids = Array.from({ length: 9 }, (_, i) => `plodder-${i}`);
    await Promise.all(ids.map((id) => c.manager.launch(Plodder, id, undefined, { restart: "on-failure" })));
    expect(await c.loads()).toEqual({ n1: 3, n2: 3, n3: 3 });
    const victimIds = (await c.manager.nodes()).find((node) => node.name === "n2")!.agents.map((agent) => agent.id);

    // Serial agents, 3 ms a step: ~330 requests each stay queued for about a second.
    let answered = 0;
    const requests = Array.from({ length: 1_000 }, (_, i) =>
      c.space
        .handle<Plodder>(victimIds[i % victimIds.length]!, { timeoutMs: 60_000 })
        .step({ ms: 3, value: i })
        .then((value) => {
          answered++;
          return value;
        }),
    );
    await until("some requests are answered", () => answered >= 50);
    await n2!.kill("SIGKILL");
    expect(answered).toBeLessThan(1_000);

    const values = await Promise.all(requests);
    expect(values).toEqual(Array.from({ length: 1_000 }, (_, i) => i));

    // Its agents run on the two others now, none on the dead one.
    const survivors = [n1!.pid, n3!.pid];
    for (const id of victimIds) expect(survivors).toContain(await c.space.handle<Plodder>(id).where());
    await until("the dead node is gone from the list", async () => !(await c.manager.nodes()).some((node) => node.name === "n2"));
    const loads = await c.loads();
    expect(loads.n1! + loads.n3!).toBe(9);
    const events = await c.manager.events();
    expect(events.filter((event) => event.kind === "agent-moved" && event.node === "n2").map((event) => event.id).sort()).toEqual([...victimIds].sort());
  });

  it("a node stalled past its lease finds its agents moved, and exits instead of running them twice", { timeout: 90_000 }, async () => {
    const c = cluster();
    const [n1, n2] = await c.start(["n1", "n2"], 4);
    await c.manager.launch(Echo, "stalled", undefined, { node: "n1", restart: "on-failure" });
    n1!.child.process.kill("SIGSTOP");
    try {
      await until("its agent runs on the other node", async () => (await c.nodeOf("stalled")) === "n2");
      await expect(c.space.handle<Echo>("stalled", { timeoutMs: 20_000 }).where()).resolves.toBe(n2!.pid);
    } finally {
      n1!.child.process.kill("SIGCONT");
    }
    expect(await n1!.child.exited).toBe(1);
    expect(n1!.child.output).toContain('node "n1" lost its lease');
    await expect(c.space.handle<Echo>("stalled").where()).resolves.toBe(n2!.pid);
  });

  it('removes and reports agents with restart "never", and ends their mailboxes', { timeout: 60_000 }, async () => {
    const c = cluster();
    const [n1] = await c.start(["n1", "n2"], 4);
    await c.manager.launch(Echo, "fragile", undefined, { node: "n1", restart: "never" });
    await c.manager.launch(Echo, "sturdy", undefined, { node: "n1", restart: "always" });
    // Taken by the agent when its node dies: answered AgentNotFoundError once it is removed, not left to time out.
    const waiting = c.space.handle<Echo>("fragile", { timeoutMs: 30_000 }).slow({ ms: 30_000 });
    await until("the slow request is taken", async () => (await c.space.handle<Echo>("fragile").echo({ value: "up" })) === "up");
    await n1!.kill("SIGKILL");
    await expect(waiting).rejects.toBeInstanceOf(AgentNotFoundError);
    await until("the dead node's agents are dealt with", async () => (await c.loads()).n2 === 1 && (await c.nodeOf("fragile")) === undefined);
    await expect(c.space.handle<Echo>("sturdy").echo({ value: 1 })).resolves.toBe(1);
    await expect(c.space.handle<Echo>("fragile", { timeoutMs: 10_000 }).echo({ value: 1 })).rejects.toBeInstanceOf(AgentNotFoundError);
    const removed = (await c.manager.events()).find((event) => event.kind === "agent-removed");
    expect(removed).toMatchObject({ node: "n1", id: "fragile" });
    expect(removed?.detail).toContain('restart policy is "never"');
  });
});
