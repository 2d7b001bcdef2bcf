import { expect, it } from "vitest";
import { Echo } from "../fixtures/node-agents.js";
import { describeWithRedis, probeRedis } from "../helpers/redis.js";
import { entriesAdded } from "../redis/direct-streams.js";
import { useCluster } from "./cluster.js";

const probe = await probeRedis();

describeWithRedis("nodes on the direct path", probe, () => {
  const cluster = useCluster();

  it("serves requests to agents on nodes started with --direct straight over TCP, none through their mailboxes", { timeout: 90_000 }, async () => {
    const c = cluster(true);
    await c.start(["d1", "d2"], 4);
    const launched = await Promise.all(["a", "b"].map((id) => c.manager.launch(Echo, id)));
    expect(new Set(launched.map(({ node }) => node))).toEqual(new Set(["d1", "d2"]));
    // The first request may find the address not yet known; after it, everything goes direct.
    for (const { id } of launched) await c.space.handle<Echo>(id).echo({ value: 0 });
    const before = await Promise.all(launched.map(({ id }) => entriesAdded(c.namespace, id)));
    const answers = await Promise.all(
      Array.from({ length: 2_000 }, (_, n) => c.space.handle<Echo>(launched[n % 2]!.id).echo({ value: n })),
    );
    expect(answers).toEqual(Array.from({ length: 2_000 }, (_, n) => n));
    expect(await Promise.all(launched.map(({ id }) => entriesAdded(c.namespace, id)))).toEqual(before);
  });
});
