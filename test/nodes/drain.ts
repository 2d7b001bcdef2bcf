import { expect, it } from "vitest";
import { Echo, Plodder } from "../fixtures/node-agents.js";
import { describeWithRedis, probeRedis } from "../helpers/redis.js";
import { until, useCluster } from "./cluster.js";

const probe = await probeRedis();

describeWithRedis("a node that is stopped (SIGTERM)", probe, () => {
  const cluster = useCluster();

  it("moves its agents to the other nodes before it exits, and no request fails", { timeout: 90_000 }, async () => {
    const c = cluster();
    const [n1, n2, n3] = await c.start(["n1", "n2", "n3"], 10);
    const ids = Array.from({ length: 6 }, (_, i) => `plodder-${i}`);
    await Promise.all(ids.map((id) => c.manager.launch(Plodder, id, undefined, { restart: "on-failure" })));
    const leaving = (await c.manager.nodes()).find((node) => node.name === "n3")!.agents.map((agent) => agent.id);
    expect(leaving).toHaveLength(2);

    // Requests queued at its agents while it drains, and more sent during the drain.
    let answered = 0;
    const send = (count: number, from: number) =>
      Array.from({ length: count }, (_, i) =>
        c.space
          .handle<Plodder>(leaving[i % 2]!, { timeoutMs: 60_000 })
          .step({ ms: 2, value: from + i })
          .finally(() => answered++),
      );
    const before = send(400, 0);
    await until("some are answered", () => answered >= 50);
    const answeredAtSignal = answered;
    const exited = n3!.kill("SIGTERM");
    const during = send(200, 400);
    expect(await exited).toBe(0);
    // Requests were still waiting when the drain began.
    expect(answeredAtSignal).toBeLessThan(400);
    // At its exit its agents are placed, and run, on the other two already.
    const after = await c.manager.nodes();
    expect(after.map((node) => node.name)).toEqual(["n1", "n2"]);
    for (const id of leaving) expect(["n1", "n2"]).toContain(await c.nodeOf(id));
    for (const id of leaving) expect([n1!.pid, n2!.pid]).toContain(await c.space.handle<Plodder>(id).where());
    expect(await Promise.all([...before, ...during])).toEqual(Array.from({ length: 600 }, (_, i) => i));
    expect(n3!.child.output).toContain("[node n3] stopped");
    const moved = (await c.manager.events()).filter((event) => event.kind === "agent-moved" && event.node === "n3");
    expect(moved.map((event) => event.id).sort()).toEqual([...leaving].sort());
  });

  it("a node restarted under the same name takes new work", { timeout: 60_000 }, async () => {
    const c = cluster();
    const [first] = await c.start(["n1"], 4);
    await c.manager.launch(Echo, "before", undefined, { restart: "on-failure" });
    await first!.kill("SIGKILL");
    // The same name again: it waits for the dead run's lease, then takes work, the dead run's agents first.
    const [second] = await c.start(["n1"], 4);
    expect(second!.pid).not.toBe(first!.pid);
    await expect(c.manager.launch(Echo, "after", undefined, { node: "n1" })).resolves.toEqual({ id: "after", node: "n1" });
    await expect(c.space.handle<Echo>("after").where()).resolves.toBe(second!.pid);
    await expect(c.space.handle<Echo>("before", { timeoutMs: 20_000 }).where()).resolves.toBe(second!.pid);
    // The dead run's record goes once its recovery has ended, just after its agents run again elsewhere.
    await until("the dead run's recovery has ended", async () => (await c.manager.nodes()).length === 1);
    expect((await c.manager.nodes()).map((node) => [node.name, node.live, node.pid])).toEqual([["n1", true, second!.pid]]);
  });
});
