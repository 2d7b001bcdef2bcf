import { expect, it } from "vitest";
import type { Wallet } from "../fixtures/wallet.js";
import { describeWithRedis, probeRedis } from "../helpers/redis.js";
import { useCluster } from "./cluster.js";

const probe = await probeRedis();
const wallets = new URL("../fixtures/wallet.ts", import.meta.url).pathname;

describeWithRedis("nodes serving virtual agents", probe, () => {
  const cluster = useCluster();

  it("spreads activations within each node's capacity; a node killed, its ids answer on the others with their states", { timeout: 120_000 }, async () => {
    const c = cluster();
    const nodes = await c.start(["n1", "n2", "n3"], 3, { args: [wallets, "--virtual", "Wallet=w:"] });
    expect(nodes[0]!.child.output).toContain('serves Wallet as "w:…"');
    const ids = Array.from({ length: 6 }, (_, i) => `w:${i}`);
    const first = await Promise.all(ids.map((id) => c.space.handle<Wallet>(id, { timeoutMs: 60_000 }).deposit({ n: 1 })));
    const pids = nodes.map((node) => node.pid);
    const load = pids.map((pid) => first.filter((answer) => answer.pid === pid).length);
    expect(first.every((answer) => answer.balance === 1 && pids.includes(answer.pid))).toBe(true);
    // Three each at most: a node with no room leaves the rest to the others.
    expect(Math.max(...load)).toBeLessThanOrEqual(3);

    const victim = nodes.find((node) => node.pid === first[0]!.pid)!;
    await victim.kill("SIGKILL");
    const survivors = pids.filter((pid) => pid !== victim.pid);
    const after = await Promise.all(ids.map((id) => c.space.handle<Wallet>(id, { timeoutMs: 60_000 }).deposit({ n: 1 })));
    for (const answer of after) {
      expect(answer.balance).toBe(2);
      expect(survivors).toContain(answer.pid);
    }
  });
});
