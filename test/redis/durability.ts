import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AgentNotFoundError, DuplicateAgentError, MessageValidationError, RedisSpace, RequestTimeoutError } from "../../src/index.js";
import { Keys } from "../../src/redis/index.js";
import { Calculator, SerialWorker } from "../fixtures/calculator.js";
import { ChildScript } from "../helpers/child.js";
import { Recorder } from "../helpers/recorder.js";
import { describeWithRedis, probeRedis, rawClient, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const peerScript = new URL("./peer.ts", import.meta.url);
const tuning = { leaseMs: 1_500, statsIntervalMs: 100 };

describeWithRedis("RedisSpace mailboxes", probe, () => {
  let namespace: string;
  const spaces: RedisSpace[] = [];
  const open = (): RedisSpace => {
    const space = new RedisSpace({ namespace, tuning });
    spaces.push(space);
    return space;
  };

  beforeEach(() => {
    namespace = uniqueNamespace("mailboxes");
  });
  afterEach(async () => {
    await Promise.all(spaces.splice(0).map((space) => space.destroy()));
  });

  it("keeps a mailbox through destroy({ keepMailboxes: true }): what was sent meanwhile reaches the next holder", async () => {
    const first = open();
    await first.add(Calculator, "calc", { start: 0 });
    await first.destroy({ keepMailboxes: true });
    const caller = open();
    const me = await caller.addForeground(Recorder, "me");
    // Nobody holds "calc" now, but its mailbox is open: the request waits, in order with a plain send.
    me.send({ to: "calc", action: { name: "accumulate", args: { n: 5 } } });
    const waiting = me.request({ to: "calc", action: { name: "accumulate", args: { n: 1 } } });
    await expect(me.request({ to: "calc", action: { name: "add" } }, { timeoutMs: 300 })).rejects.toBeInstanceOf(RequestTimeoutError);
    const second = open();
    await second.add(Calculator, "calc", { start: 100 });
    await expect(waiting).resolves.toBe(106);
    expect(me.values).toEqual([105]);
  });

  it("keeps broadcasts for an offline agent up to its mailbox bound, and drops the rest quietly", async () => {
    const first = open();
    await first.add(Calculator, "away", undefined, { mailboxSize: 2 });
    await first.destroy({ keepMailboxes: true });
    const caller = open();
    const me = await caller.addForeground(Recorder, "me");
    for (let i = 0; i < 3; i++) me.send({ to: "*", action: { name: "accumulate", args: { n: 1 } } });
    await me.request({ to: "me", action: { name: "note", args: { event: "after the broadcasts" } } });
    const second = open();
    await second.add(Calculator, "away", undefined, { mailboxSize: 2 });
    await me.until(() => me.values.length === 2);
    expect(me.values).toEqual([1, 2]);
    expect(me.errors).toEqual([]);
  });

  it("ends the mailbox on remove and on destroy: later sends are refused at once", async () => {
    const space = open();
    const me = await space.addForeground(Recorder, "me");
    await space.add(Calculator, "gone");
    await space.add(Calculator, "also-gone");
    await space.remove("gone");
    await expect(me.request({ to: "gone", action: { name: "add" } }, { timeoutMs: Infinity })).rejects.toBeInstanceOf(AgentNotFoundError);
    const other = open();
    await other.destroy();
    const caller = open();
    const you = await caller.addForeground(Recorder, "you");
    await space.destroy();
    await expect(you.request({ to: "also-gone", action: { name: "add" } }, { timeoutMs: Infinity })).rejects.toBeInstanceOf(AgentNotFoundError);
    const client = await rawClient();
    try {
      const keys = new Keys(namespace);
      expect(await client.exists([keys.mailbox("gone"), keys.mailbox("also-gone"), keys.lease("gone")])).toBe(0);
      expect(await client.hGetAll(keys.registry)).toEqual({ you: "10000" });
    } finally {
      client.destroy();
    }
  });

  it("answers what waited in a removed agent's mailbox with AgentNotFoundError, in whichever process its sender is", async () => {
    const host = open();
    await host.add(SerialWorker, "busy");
    const caller = open();
    const me = await caller.addForeground(Recorder, "me");
    const first = me.request({ to: "busy", action: { name: "step", args: { name: "long", ms: 600 } } });
    const waiting = [1, 2, 3].map((i) => me.request({ to: "busy", action: { name: "step", args: { name: `s${i}`, ms: 1 } } }, { timeoutMs: Infinity }));
    // Taken by the serial agent's process, one at work and three in its mailbox: none answered yet.
    await vi.waitFor(() => expect(host.stats().busy!.unacked).toBe(4));
    await host.remove("busy", { timeoutMs: 100 });
    for (const answer of waiting) await expect(answer).rejects.toThrow(/agent "busy" was removed/);
    await first.catch(() => {}); // answered, or refused, depending on whether remove let it finish
  });

  it("reports per agent what waits in Redis and what is taken but not yet answered", async () => {
    const space = open();
    const me = await space.addForeground(Recorder, "me");
    await space.add(SerialWorker, "serial", undefined, { mailboxSize: 5 });
    for (let i = 0; i < 6; i++) me.send({ to: "serial", action: { name: "step", args: { name: `s${i}`, ms: 400 } } });
    await vi.waitFor(() => expect(space.stats().serial).toMatchObject({ unacked: 5, waiting: 0 }));
    // The sixth found the stream full (five entries taken and unanswered): refused, not dropped.
    await me.until(() => me.errors.length === 1);
    expect(me.errors[0]!.name).toBe("MailboxFullError");
    await me.until(() => me.values.length === 5);
    await vi.waitFor(() => expect(space.stats().serial).toMatchObject({ unacked: 0, waiting: 0 }));
  });

  it("refuses an id held in another space of the namespace until that space gives it up", async () => {
    const one = open();
    const two = open();
    await one.add(Calculator, "shared");
    await expect(two.add(Calculator, "shared")).rejects.toBeInstanceOf(DuplicateAgentError);
    await one.remove("shared");
    await two.add(Calculator, "shared");
  });

  it("acknowledges, counts and reports stream entries that are not valid messages, and keeps reading", async () => {
    const space = open();
    const errors: Error[] = [];
    space.on("error", (error) => errors.push(error));
    const me = await space.addForeground(Recorder, "me");
    await space.add(Calculator, "calc");
    const keys = new Keys(namespace);
    const key = keys.mailbox("calc");
    const valid = { meta: { id: "x1" }, from: "me", to: "calc", action: { name: "add", args: { a: 1, b: 2 } } };
    const bad: Array<Record<string, string>> = [
      { m: "not json {" },
      { m: JSON.stringify({ hello: "world" }) },
      { m: JSON.stringify({ ...valid, from: "*" }) },
      { m: JSON.stringify({ ...valid, to: "someone-else" }) },
      { m: JSON.stringify({ ...valid, action: { name: "add", args: [1, 2] } }) },
      { other: "field" },
      { m: JSON.stringify(valid), extra: "field" },
      { m: "[]".repeat(1) + "".padEnd(10, "[") },
    ];
    const client = await rawClient();
    try {
      for (const fields of bad) await client.xAdd(key, "*", fields);
      await vi.waitFor(() => expect(errors.filter((error) => error instanceof MessageValidationError)).toHaveLength(bad.length));
      expect(errors.every((error) => error.message.includes('in the mailbox of "calc"'))).toBe(true);
      await expect(me.request({ to: "calc", action: { name: "add", args: { a: 2, b: 3 } } })).resolves.toBe(5);
      expect(space.stats().calc!.dropped).toBe(bad.length);
      await vi.waitFor(async () => expect(await client.xLen(key)).toBe(0)); // acknowledged and deleted
      const pending = (await client.sendCommand(["XPENDING", key, Keys.GROUP])) as unknown[];
      expect(pending[0]).toBe(0);
    } finally {
      client.destroy();
    }
  });

  it("rejects add with an error naming host and port when Redis cannot be reached", async () => {
    const space = new RedisSpace({ redis: { url: "redis://127.0.0.1:1" }, namespace });
    await expect(space.add(Calculator, "calc")).rejects.toThrow(/Redis at 127\.0\.0\.1:1\b/);
    await expect(space.connected()).rejects.toMatchObject({ name: "RedisConnectionError" });
    await space.destroy();
  });
});

describeWithRedis("RedisSpace when a process dies", probe, () => {
  let namespace: string;
  let space: RedisSpace;
  const children: ChildScript[] = [];
  const child = (id: string, kind: string, retry = false): ChildScript => {
    const script = new ChildScript(peerScript, [namespace, id, kind, String(tuning.leaseMs), ...(retry ? ["retry"] : [])]);
    children.push(script);
    return script;
  };

  beforeEach(() => {
    namespace = uniqueNamespace("deaths");
    space = new RedisSpace({ namespace, tuning });
  });
  afterEach(async () => {
    await space.destroy();
    await Promise.all(children.splice(0).map((script) => (script.process.exitCode === null && !script.process.killed ? script.end() : script.exited)));
  });

  it("keeps the id taken until the lease of a killed process runs out, then lets another process add it", async () => {
    const holder = child("leased", "calculator");
    await holder.waitFor("ready leased");
    holder.process.kill("SIGKILL");
    const killedAt = Date.now();
    await holder.exited;
    await expect(space.add(Calculator, "leased")).rejects.toBeInstanceOf(DuplicateAgentError);
    let added = false;
    while (!added) {
      added = await space.add(Calculator, "leased").then(
        () => true,
        (error: unknown) => {
          if (!(error instanceof DuplicateAgentError)) throw error;
          return false;
        },
      );
      if (!added) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const waited = Date.now() - killedAt;
    expect(waited).toBeGreaterThan(tuning.leaseMs / 3); // the last renewal was at most a third of the lease before the kill
    expect(waited).toBeLessThan(tuning.leaseMs + 2_000);
    await expect(space.handle<Calculator>("leased").add({ a: 1, b: 1 })).resolves.toBe(2);
  });

  it("loses none of 1,000 requests when the process of their agent is killed with SIGKILL", { timeout: 90_000 }, async () => {
    const me = await space.addForeground(Recorder, "me");
    const first = child("worker", "serial-tally");
    await first.waitFor("ready worker");
    const count = 1_000;
    const answers = Array.from({ length: count }, (_, n) =>
      me.request({ to: "worker", action: { name: "work", args: { n, ms: 2 } } }, { timeoutMs: 60_000 }),
    );
    await me.until(() => me.notes.length >= 150);
    // Frozen (SIGSTOP) while we read what it has taken, and killed only once that is
    // something: between two batches a process may hold nothing unanswered.
    const keys = new Keys(namespace);
    const client = await rawClient();
    const takenBeforeKill = new Set<number>();
    try {
      for (;;) {
        first.process.kill("SIGSTOP");
        const pending = (await client.sendCommand(["XPENDING", keys.mailbox("worker"), Keys.GROUP, "-", "+", "10000"])) as Array<[string]>;
        if (pending.length === 0) {
          first.process.kill("SIGCONT");
          await new Promise((resolve) => setImmediate(resolve));
          continue;
        }
        for (const [entryId] of pending) {
          const entries = (await client.sendCommand(["XRANGE", keys.mailbox("worker"), entryId, entryId])) as Array<[string, string[]]>;
          const message = JSON.parse(entries[0]![1][1]!) as { action: { args: { n: number } } };
          takenBeforeKill.add(message.action.args.n);
        }
        break;
      }
    } finally {
      client.destroy();
    }
    // What the dead process took and never answered: these, and only these, may run twice.
    first.process.kill("SIGKILL");
    await first.exited;
    expect(takenBeforeKill.size).toBeGreaterThan(0);
    const second = child("worker", "tally", true);
    await second.waitFor("ready worker");
    const values = await Promise.all(answers);
    expect(values).toEqual(Array.from({ length: count }, (_, n) => n * 2));
    await me.until(() => new Set(me.notes).size === count);
    const runs = new Map<string, number>();
    for (const note of me.notes) runs.set(String(note), (runs.get(String(note)) ?? 0) + 1);
    const twice = [...runs].filter(([, times]) => times > 1).map(([note]) => Number(String(note).slice(4)));
    for (const n of twice) expect(takenBeforeKill, `job ${n} ran twice`).toContain(n);
  });
});
