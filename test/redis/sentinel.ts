import { afterAll, beforeAll, expect, it } from "vitest";
import { Agent, DuplicateAgentError, RedisSpace } from "../../src/index.js";
import { Wallet } from "../fixtures/wallet.js";
import { ChildScript } from "../helpers/child.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";
import { needRedisServer } from "../helpers/redis-server.js";
import { SentinelGroup } from "../helpers/sentinel.js";

const probe = needRedisServer(await probeRedis());
const cli = new URL("../../src/cli/main.ts", import.meta.url);
const wallets = new URL("../fixtures/wallet.ts", import.meta.url).pathname;
/** The default lease: longer than a failover here (about 3 s), so leases and the node's own outlive it. */
const LEASE_MS = 5_000;

describeWithRedis("RedisSpace on Redis Sentinel", probe, () => {
  let group: SentinelGroup;
  beforeAll(async () => {
    group = await SentinelGroup.start();
  }, 60_000);
  afterAll(() => group?.stop());

  it("carries on through a failover (primary killed with SIGKILL under load): every request answered, no acknowledged deposit lost, the lease and a node resume", { timeout: 120_000 }, async ({ onTestFailed }) => {
    const namespace = uniqueNamespace("sentinel");
    const redis = { sentinel: { name: group.name, sentinels: group.nodes } };
    const node = new ChildScript(cli, ["node", wallets, "--namespace", namespace, "--name", "s1", "--lease-ms", String(LEASE_MS), "--sentinel", group.sentinels.map((port) => `127.0.0.1:${port}`).join(","), "--sentinel-name", group.name]);
    onTestFailed(() => console.log(`the node said:\n${node.output.slice(-4_000)}`));
    const space = new RedisSpace({ namespace, redis, tuning: { leaseMs: LEASE_MS } });
    const other = new RedisSpace({ namespace, redis, tuning: { leaseMs: LEASE_MS } });
    const errors: Error[] = [];
    space.on("error", (error) => errors.push(error));
    other.on("error", () => {});
    try {
      await node.waitFor("[node s1] ready");
      await space.add(Wallet, "w");
      await space.manager().launch(Wallet, "on-node");
      const me = await space.addForeground(Agent, "me");
      let answered = 0;
      const failed: string[] = [];
      let going = true;
      const lane = async () => {
        while (going) {
          await me.request({ to: "w", action: { name: "deposit", args: { n: 1 } } }, { timeoutMs: 60_000 }).then(
            () => answered++,
            (error: Error) => failed.push(`${error.name}: ${error.message}`),
          );
        }
      };
      const lanes = Array.from({ length: 4 }, lane);
      while (answered < 200) await new Promise((resolve) => setTimeout(resolve, 20));
      const killed = group.primary;
      await group.kill(killed);
      const before = answered;
      while (answered < before + 200) await new Promise((resolve) => setTimeout(resolve, 20));
      going = false;
      await Promise.all(lanes);

      expect(await group.primaryPort()).not.toBe(killed);
      expect(failed).toEqual([]);
      // Acknowledged (answered) deposits are all in the state the new primary holds.
      expect(await me.request({ to: "w", action: { name: "deposit", args: { n: 0 } } })).toEqual({ balance: answered, pid: process.pid });
      expect(errors.some((error) => error.message.includes('the primary of "mymaster"'))).toBe(true); // the loss was said
      // The lease was renewed on the new primary: the id is still this process's.
      await expect(other.add(Wallet, "w")).rejects.toThrow(DuplicateAgentError);
      // The node came back too: its agent answers, and it takes new work.
      expect(await space.handle<Wallet>("on-node", { timeoutMs: 60_000 }).deposit({ n: 1 })).toEqual({ balance: 1, pid: node.process.pid });
      await space.manager().launch(Wallet, "after-failover");
      expect((await space.handle<Wallet>("after-failover", { timeoutMs: 60_000 }).deposit({ n: 1 })).pid).toBe(node.process.pid);
    } finally {
      node.process.kill("SIGKILL");
      await Promise.all([space.destroy(), other.destroy()]);
    }
  });

  it("refuses a sentinel setting that cannot work, naming the fix", async () => {
    const refused = (sentinel: unknown) => new RedisSpace({ redis: { sentinel } as never }).connected();
    await expect(refused({ sentinels: [{ host: "127.0.0.1", port: 26379 }] })).rejects.toThrow('sentinel needs the name its sentinels monitor it by: { name: "mymaster"');
    await expect(refused({ name: "mymaster", sentinels: [] })).rejects.toThrow("sentinel needs at least one sentinel");
    await expect(refused({ name: "mymaster", sentinels: [{ host: "127.0.0.1", port: 0 }] })).rejects.toThrow("each sentinel is { host, port }");
  });
});
