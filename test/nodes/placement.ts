import { expect, it } from "vitest";
import { Agent, AgentNotFoundError, DuplicateAgentError, PlacementError } from "../../src/index.js";
import { Echo, Refuser } from "../fixtures/node-agents.js";
import { Special } from "../fixtures/node-special.js";
import { describeWithRedis, probeRedis, rawClient } from "../helpers/redis.js";
import { useCluster } from "./cluster.js";

const probe = await probeRedis();

/** No node offers it. */
class Unoffered extends Agent {
  static module = import.meta.url;
}

describeWithRedis("launching agents on nodes", probe, () => {
  const cluster = useCluster();

  it("spreads agents over the nodes within capacity, pins them by name, and refuses at once what cannot be placed", { timeout: 90_000 }, async () => {
    const c = cluster();
    const [n1, n2, n3] = await c.start(["n1", "n2", "n3"], 12, { special: "n3" });
    const pids = { n1: n1!.pid, n2: n2!.pid, n3: n3!.pid };

    const launched = await Promise.all(Array.from({ length: 30 }, (_, i) => c.manager.launch(Echo, `echo-${i}`, undefined, { node: "any" })));
    expect(await c.loads()).toEqual({ n1: 10, n2: 10, n3: 10 });
    // Each runs where the manager said, and answers through the space as any agent.
    const where = await Promise.all(launched.map(({ id }) => c.space.handle<Echo>(id).where()));
    expect(where).toEqual(launched.map(({ node }) => pids[node as keyof typeof pids]));
    await expect(c.space.handle<Echo>("echo-7").echo({ value: { deep: [1, "two"] } })).resolves.toEqual({ deep: [1, "two"] });

    // Pinned: on that node, even when others are less loaded.
    await expect(c.manager.launch(Special, "special", undefined, { node: "n3" })).resolves.toEqual({ id: "special", node: "n3" });
    await expect(c.space.handle<Special>("special").where()).resolves.toBe(pids.n3);
    await expect(c.manager.launch(Echo, "pinned", undefined, { node: "n1" })).resolves.toEqual({ id: "pinned", node: "n1" });
    await expect(c.space.handle<Echo>("pinned").where()).resolves.toBe(pids.n1);

    // Clear errors, at once (no request is sent to wait on).
    const started = Date.now();
    await expect(c.manager.launch(Unoffered, "nobody")).rejects.toThrow(PlacementError);
    await expect(c.manager.launch(Unoffered, "nobody")).rejects.toThrow(/no live node in namespace "[^"]+" offers class Unoffered \(n1: Echo, Plodder, Refuser; n2: .*; n3: Echo, Plodder, Refuser, Special\)/);
    await expect(c.manager.launch(Special, "special-2", undefined, { node: "n1" })).rejects.toThrow(/node "n1" in namespace "[^"]+" offers class Special/);
    await expect(c.manager.launch(Echo, "lost", undefined, { node: "n9" })).rejects.toThrow(/no live node "n9" in namespace "[^"]+" \(live: n1, n2, n3\)/);
    await expect(c.manager.launch(Echo, "echo-3")).rejects.toThrow(DuplicateAgentError);
    // Five refusals, each a script and a listing: far below any request timeout, even on a busy machine.
    expect(Date.now() - started).toBeLessThan(5_000);

    // Fill every node (36 places), then one more is refused, naming the loads.
    await Promise.all(Array.from({ length: 4 }, (_, i) => c.manager.launch(Echo, `fill-${i}`)));
    expect(await c.loads()).toEqual({ n1: 12, n2: 12, n3: 12 });
    await expect(c.manager.launch(Echo, "one-too-many")).rejects.toThrow(/every live node offering class Echo is full in namespace "[^"]+" \(n1 12\/12, n2 12\/12, n3 12\/12\)/);
    await expect(c.manager.launch(Echo, "one-too-many", undefined, { node: "n2" })).rejects.toThrow(/node "n2" is full/);

    // What was refused left nothing placed.
    const table = await c.manager.nodes();
    expect(table.flatMap((node) => node.agents.map((agent) => agent.id))).toHaveLength(36);
  });

  it("passes on the error of an agent that fails to start and leaves nothing placed", { timeout: 60_000 }, async () => {
    const c = cluster();
    await c.start(["solo"], 4);
    await expect(c.manager.launch(Refuser, "refuser")).rejects.toThrow(/Refuser refuses to start/);
    expect(await c.loads()).toEqual({ solo: 0 });
    // The id is free again: a working class takes it.
    await expect(c.manager.launch(Echo, "refuser")).resolves.toEqual({ id: "refuser", node: "solo" });
  });

  it("removes a launched agent for good, from any process", { timeout: 60_000 }, async () => {
    const c = cluster();
    await c.start(["solo"], 4);
    await c.manager.launch(Echo, "short-lived", undefined, { restart: "always" });
    await c.manager.remove("short-lived");
    expect(await c.loads()).toEqual({ solo: 0 });
    await expect(c.space.handle<Echo>("short-lived").echo({ value: 1 })).rejects.toBeInstanceOf(AgentNotFoundError);
    await expect(c.manager.remove("short-lived")).rejects.toThrow(/no agent "short-lived" is placed on a node/);
  });

  it("ignores what is not a node in the directory (Redis is shared: anyone may write there)", { timeout: 60_000 }, async () => {
    const c = cluster();
    await c.start(["solo"], 4);
    const client = await rawClient();
    try {
      const nodes = `agentspace:{${c.namespace}}:nodes`;
      await client.hSet(nodes, "bogus-1", "not json");
      await client.hSet(nodes, "bogus-2", JSON.stringify({ name: "solo", classes: "Echo", capacity: "lots" }));
      await client.hSet(nodes, "bogus-3", JSON.stringify({ name: { toString: 1 }, classes: ["Echo"], capacity: 100 }));
    } finally {
      client.destroy();
    }
    await expect(c.manager.launch(Echo, "fine")).resolves.toEqual({ id: "fine", node: "solo" });
    expect((await c.manager.nodes()).map((node) => node.name)).toEqual(["solo"]);
  });

  it("refuses bad launch arguments before anything is placed", { timeout: 60_000 }, async () => {
    const c = cluster();
    await expect(c.manager.launch(Echo, "x", new Map() as never)).rejects.toThrow(/init/);
    await expect(c.manager.launch(Echo, "", undefined)).rejects.toThrow(TypeError);
    await expect(c.manager.launch(Echo, "x", undefined, { node: "bad name" })).rejects.toThrow(/node name/);
    await expect(c.manager.launch(Echo, "x", undefined, { restart: "sometimes" as never })).rejects.toThrow(/restart must be one of/);
    await expect(c.manager.launch(Echo, "x")).rejects.toThrow(/no live node in namespace/);
  });
});
