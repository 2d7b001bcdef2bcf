import { afterEach, expect, it } from "vitest";
import { Agent, RedisSpace } from "../../src/index.js";
import { Account } from "../fixtures/accounts.js";
import { BrokenWallet, Wallet } from "../fixtures/wallet.js";
import { ChildScript } from "../helpers/child.js";
import { describeWithRedis, probeRedis, rawClient, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const peerScript = new URL("./virtual-peer.ts", import.meta.url);
/** Short leases: a killed process's ids are free again this soon. */
const LEASE_MS = 1_000;

describeWithRedis("RedisSpace virtual agents", probe, () => {
  const spaces: RedisSpace[] = [];
  const children: ChildScript[] = [];
  const open = (namespace: string) => {
    const space = new RedisSpace({ namespace, tuning: { leaseMs: LEASE_MS } });
    spaces.push(space);
    return space;
  };
  /** A process serving "w:" (Wallet) in `namespace`, once it serves. */
  const server = async (namespace: string, idleMs: number) => {
    const child = new ChildScript(peerScript, [namespace, String(LEASE_MS), String(idleMs)]);
    children.push(child);
    await child.waitFor("ready");
    return child;
  };
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.process.exitCode === null) child.process.kill("SIGKILL");
    await Promise.all(spaces.splice(0).map((space) => space.destroy()));
  });

  it("answers 200 concurrent requests to one inactive id from one instance, in one of two serving processes; passivated, it comes back with its state", async () => {
    const namespace = uniqueNamespace("virtual-two");
    const child = await server(namespace, 300);
    const space = open(namespace);
    await space.virtual(Wallet, { prefix: "w:", idleMs: 300 });
    const wallet = space.handle<Wallet>("w:1", { timeoutMs: 30_000 });

    const answers = await Promise.all(Array.from({ length: 200 }, () => wallet.deposit({ n: 1 })));
    const pids = new Set(answers.map(({ pid }) => pid));
    expect(pids.size).toBe(1);
    expect([process.pid, child.process.pid]).toContain([...pids][0]);
    expect(answers.map(({ balance }) => balance).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));

    // Idle, it passivates where it ran: out of the registry (broadcasts skip it), its state kept.
    const redis = await rawClient();
    try {
      await expect.poll(async () => Number(await redis.hExists(`agentspace:{${namespace}}:mailboxes`, "w:1")), { timeout: 10_000 }).toBe(0);
      expect(space.agents).not.toContain("w:1");
      // Counted where it ran: one activation and one passivation in one of the two processes.
      if ([...pids][0] === process.pid) await expect.poll(() => space.virtualStats()).toEqual({ Wallet: { active: 0, activations: 1, passivations: 1 } });
      const again = await wallet.deposit({ n: 1 });
      expect(again.balance).toBe(201);
      expect([process.pid, child.process.pid]).toContain(again.pid);
    } finally {
      redis.destroy();
    }
  });

  it("answers the next messages of a killed process's active virtual agents from another serving process, their states kept", async () => {
    const namespace = uniqueNamespace("virtual-kill");
    const first = await server(namespace, 60_000);
    // This process only sends: the kind is registered namespace-wide by the process serving it.
    const space = open(namespace);
    const ids = ["w:a", "w:b", "w:c"];
    for (const id of ids) {
      for (let i = 0; i < 5; i++) expect((await space.handle<Wallet>(id).deposit({ n: 1 })).pid).toBe(first.process.pid);
    }
    const second = await server(namespace, 60_000);
    first.process.kill("SIGKILL");
    await first.exited;
    const after = await Promise.all(ids.map((id) => space.handle<Wallet>(id, { timeoutMs: 30_000 }).deposit({ n: 1 })));
    expect(after).toEqual(ids.map(() => ({ balance: 6, pid: second.process.pid })));
  });

  it("takes messages to an id of a registered kind while no process serves it, and delivers them to the first that does", async () => {
    const namespace = uniqueNamespace("virtual-later");
    const first = open(namespace);
    await first.virtual(Wallet, { prefix: "w:" });
    await first.destroy();
    const space = open(namespace);
    const me = await space.addForeground(Account, "me"); // any agent: it sends, and reads no answers
    for (let i = 0; i < 10; i++) me.send({ to: "w:later", action: { name: "deposit", args: { n: 1 } } });
    const child = await server(namespace, 60_000);
    expect(await space.handle<Wallet>("w:later", { timeoutMs: 30_000 }).deposit({ n: 1 })).toEqual({ balance: 11, pid: child.process.pid });
  });

  it("refuses a prefix the namespace has for another class, or one that overlaps a registered one, naming it", async () => {
    const namespace = uniqueNamespace("virtual-clash");
    await open(namespace).virtual(Wallet, { prefix: "w:" });
    await expect(open(namespace).virtual(Account, { prefix: "w:" })).rejects.toThrow('the virtual prefix "w:" is class Wallet');
    await expect(open(namespace).virtual(Wallet, { prefix: "w:x" })).rejects.toThrow('the virtual prefix "w:x" overlaps "w:" (class Wallet)');
    // The same kind again, from another process of the namespace: it serves it too.
    await expect(open(namespace).virtual(Wallet, { prefix: "w:" })).resolves.toBeUndefined();
  });

  it("reaches active instances only with a broadcast: a passivated one misses it and is not activated by it", async () => {
    const space = open(uniqueNamespace("virtual-broadcast"));
    space.on("error", () => {});
    await space.virtual(Wallet, { prefix: "w:", idleMs: 60_000 });
    await space.virtual(Wallet, { prefix: "p:", idleMs: 200 });
    const passivated = new Promise<void>((resolve) => space.on("agent:removed", (id) => id === "p:1" && resolve()));
    expect((await space.handle<Wallet>("w:1").deposit({ n: 1 })).balance).toBe(1);
    expect((await space.handle<Wallet>("p:1").deposit({ n: 1 })).balance).toBe(1);
    await passivated;
    const me = await space.addForeground(Agent, "me");
    me.send({ to: "*", action: { name: "deposit", args: { n: 100 } } });
    // From the same sender, after the broadcast: it arrives after it.
    expect((await space.handle<Wallet>("w:1").deposit({ n: 0 })).balance).toBe(101);
    expect((await space.handle<Wallet>("p:1").deposit({ n: 0 })).balance).toBe(1);
  });

  it("answers what waited for an id whose activation fails with the reason, once per activation, and stays usable", async () => {
    const space = open(uniqueNamespace("virtual-broken"));
    const errors: Error[] = [];
    space.on("error", (error) => errors.push(error));
    await space.virtual(BrokenWallet, { prefix: "bad:" });
    await space.virtual(Wallet, { prefix: "w:" });
    const broken = space.handle<Wallet>("bad:1", { timeoutMs: 30_000 });
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => broken.deposit({ n: 1 })));
    for (const outcome of settled) {
      expect(outcome.status).toBe("rejected");
      expect(String((outcome as PromiseRejectedResult).reason)).toContain("no wallets today");
    }
    // Said once the activation has settled (its refusals may be answered before).
    await expect.poll(() => errors.map((error) => error.message)).toEqual([expect.stringContaining('virtual agent "bad:1" could not be activated')]);
    expect(space.agents).not.toContain("bad:1");
    expect((await space.handle<Wallet>("w:1").deposit({ n: 1 })).balance).toBe(1);
  });

  it("ends a virtual agent's mailbox and state at remove, as any agent's: its next message starts it afresh", async () => {
    const space = open(uniqueNamespace("virtual-remove"));
    await space.virtual(Wallet, { prefix: "w:" });
    expect((await space.handle<Wallet>("w:1").deposit({ n: 5 })).balance).toBe(5);
    await expect.poll(() => space.agents).toContain("w:1");
    await space.remove("w:1");
    expect((await space.handle<Wallet>("w:1").deposit({ n: 1 })).balance).toBe(1);
  });

  it("drops what is not an activation in a kind's stream (said once), ignores a kind entry SERVE did not write, and keeps serving", async () => {
    const namespace = uniqueNamespace("virtual-hostile");
    const space = open(namespace);
    const errors: Error[] = [];
    space.on("error", (error) => errors.push(error));
    await space.virtual(Wallet, { prefix: "w:" });
    const redis = await rawClient();
    try {
      const stream = `agentspace:{${namespace}}:activations:w:`;
      await redis.sendCommand(["XADD", stream, "*", "foo", "bar"]);
      await redis.sendCommand(["XADD", stream, "*", "id", "x:1"]);
      await redis.sendCommand(["XADD", stream, "*", "id", "w:" + "y".repeat(10_000)]);
      await redis.sendCommand(["HSET", `agentspace:{${namespace}}:virtual`, "z:", "lots"]);
    } finally {
      redis.destroy();
    }
    await expect.poll(() => errors.length).toBe(1);
    expect(errors[0]!.message).toContain('an activation must have one field "id" holding an id that starts with "w:"');
    expect((await space.handle<Wallet>("w:1").deposit({ n: 1 })).balance).toBe(1);
    await expect(space.handle<Wallet>("z:1").deposit({ n: 1 })).rejects.toThrow('no agent "z:1"');
    expect(errors).toHaveLength(1);
  });
});
