import { expect, it } from "vitest";
import { LocalSpace } from "../../src/index.js";
import { Echo } from "../fixtures/node-agents.js";
import { describeWithRedis, probeRedis } from "../helpers/redis.js";
import { useCluster } from "./cluster.js";

const probe = await probeRedis();

/** GETs `path` of the inspector at `url` (which carries the token). */
async function get(url: string, path: string): Promise<Response> {
  const page = new URL(url);
  return fetch(new URL(`${path}?token=${page.searchParams.get("token")}`, page));
}

describeWithRedis("the inspector's nodes", probe, () => {
  const cluster = useCluster();

  it("lists the namespace's nodes and their agents for the page", { timeout: 60_000 }, async () => {
    const c = cluster();
    await c.start(["alpha"], 3);
    await c.manager.launch(Echo, "seen", undefined, { restart: "on-failure" });
    const inspector = await c.space.openInspector();
    const answer = (await (await get(inspector.url, "/api/nodes")).json()) as { nodes: Array<{ name: string; live: boolean; agents: Array<{ id: string }> }> };
    expect(answer.nodes.map((node) => [node.name, node.live, node.agents.map((agent) => agent.id)])).toEqual([["alpha", true, ["seen"]]]);
    const script = await get(inspector.url, "/nodes.js");
    expect(script.status).toBe(200);
    expect(await script.text()).toContain("api/nodes");
    expect((await fetch(new URL("/api/nodes", inspector.url))).status).toBe(403);
  });

  it("answers null for a space without nodes", async () => {
    const space = new LocalSpace();
    try {
      const inspector = await space.openInspector();
      expect(await (await get(inspector.url, "/api/nodes")).json()).toEqual({ nodes: null, events: [] });
    } finally {
      await space.destroy();
    }
  });
});
