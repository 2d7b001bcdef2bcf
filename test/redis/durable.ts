import { afterEach, expect, it } from "vitest";
import { Agent, DuplicateAgentError, RedisSpace, type AgentClass } from "../../src/index.js";
import { Account } from "../fixtures/accounts.js";
import { ChildScript } from "../helpers/child.js";
import { describeWithRedis, probeRedis, rawClient, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const peerScript = new URL("./peer.ts", import.meta.url);
/** Short leases: a killed or stopped holder's ids are free again this soon. */
const LEASE_MS = 1_000;

/** Adds `id`, asking again while another process still holds its lease (it was killed or stopped). */
async function addWhenFree(space: RedisSpace, Cls: AgentClass, id: string): Promise<void> {
  for (;;) {
    try {
      return await space.add(Cls, id);
    } catch (error) {
      if (!(error instanceof DuplicateAgentError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Keeps the answers it gets to its plain sends. */
class Collector extends Agent {
  values: unknown[] = [];
  override handleActionValue(value: unknown): void {
    this.values.push(value);
  }
}

describeWithRedis("RedisSpace durable agents", probe, () => {
  const spaces: RedisSpace[] = [];
  const children: ChildScript[] = [];
  const open = (namespace: string) => {
    const space = new RedisSpace({ namespace, tuning: { leaseMs: LEASE_MS } });
    space.on("error", () => {}); // the holders killed in these tests are reported: expected
    spaces.push(space);
    return space;
  };
  /** Another process holding durable account "acct" in a fresh namespace, and this process's space and handle to it. */
  const elsewhere = async (name: string) => {
    const namespace = uniqueNamespace(name);
    const holder = new ChildScript(peerScript, [namespace, "acct", "account", String(LEASE_MS)]);
    children.push(holder);
    await holder.waitFor("ready acct");
    const space = open(namespace);
    return { holder, space, account: space.handle<Account>("acct", { timeoutMs: 60_000 }) };
  };
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.process.exitCode === null) child.process.kill("SIGKILL");
    await Promise.all(spaces.splice(0).map((space) => space.destroy()));
  });

  it("applies every deposit exactly once when its holder is killed (SIGKILL) in the middle of a stream of them", async () => {
    const { holder, space, account } = await elsewhere("durable-kill");

    const total = 300;
    let sent = 0;
    let answered = 0;
    let killed: Promise<void> | undefined;
    const sender = async () => {
      while (sent < total) {
        sent++;
        await account.deposit({ n: 1 });
        answered++;
        // Killed while deposits are in flight: some taken and not answered, some answered.
        if (answered === 100) {
          holder.process.kill("SIGKILL");
          killed = addWhenFree(space, Account, "acct");
        }
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    await killed;
    expect(answered).toBe(total);
    const { balance, deposits, pid } = await account.read();
    expect(pid).toBe(process.pid); // this process holds it now
    expect(deposits).toBe(total);
    expect(balance).toBe(total);
  }, 90_000);

  it("does not apply a message delivered again with an id it applied, and sends the answer it gave the first time", async () => {
    const namespace = uniqueNamespace("durable-dedup");
    const space = open(namespace);
    await space.add(Account, "acct");
    const collector = await space.addForeground(Collector, "collector");
    const client = await rawClient(probe.url);
    try {
      // The same message written twice into the mailbox, as a sender that lost its connection and sent again would.
      const body = JSON.stringify({ meta: { id: "deposit-1" }, from: "collector", to: "acct", action: { name: "deposit", args: { n: 5 } } });
      const mailbox = `agentspace:{${namespace}}:mailbox:acct`;
      await client.sendCommand(["XADD", mailbox, "*", "m", body]);
      await client.sendCommand(["XADD", mailbox, "*", "m", body]);
      await expect.poll(() => collector.values.length, { timeout: 10_000 }).toBe(2);
      expect(collector.values).toEqual([5, 5]);
      expect((await space.handle<Account>("acct").read()).balance).toBe(5);
      expect(await client.sendCommand(["GET", `agentspace:{${namespace}}:state:acct`])).toBe(JSON.stringify({ balance: 5, deposits: 1 }));
    } finally {
      client.destroy();
    }
  }, 30_000);

  it("refuses the writes of a holder that stalled past its lease (SIGSTOP) and stops its instance; the new holder's state stands", async () => {
    const { holder: stalled, space, account } = await elsewhere("durable-fence");
    expect(await account.deposit({ n: 10 })).toBe(10);

    // Stopped in the middle of an action: it took the message and has not answered.
    const slow = account.slowDeposit({ n: 1, ms: 1_500 });
    await stalled.waitFor("slow deposit started");
    stalled.process.kill("SIGSTOP");
    // Its lease runs out; this process takes the id, with its state and the message it had taken.
    await addWhenFree(space, Account, "acct");
    expect(await slow).toBe(11);
    expect(await account.deposit({ n: 100 })).toBe(111);

    // Woken, the old holder finishes its action: the write is refused, and its instance stops.
    stalled.process.kill("SIGCONT");
    await stalled.waitFor("StateFencedError");
    expect(stalled.output).toContain('agent "acct" may no longer write its state');
    const { balance, deposits, pid } = await account.read();
    expect({ balance, deposits, pid }).toEqual({ balance: 111, deposits: 3, pid: process.pid });
  }, 60_000);

  it("keeps the state through a move (remove keeping the mailbox, add in another process) and ends it with remove", async () => {
    const namespace = uniqueNamespace("durable-move");
    const first = open(namespace);
    await first.add(Account, "acct");
    await first.handle<Account>("acct").deposit({ n: 7 });
    await first.remove("acct", { keepMailbox: true });
    const second = open(namespace);
    await second.add(Account, "acct");
    expect((await second.handle<Account>("acct").read()).balance).toBe(7);
    await second.remove("acct");
    const client = await rawClient(probe.url);
    try {
      expect(await client.sendCommand(["EXISTS", `agentspace:{${namespace}}:state:acct`, `agentspace:{${namespace}}:applied:acct`])).toBe(0);
    } finally {
      client.destroy();
    }
  }, 30_000);
});
