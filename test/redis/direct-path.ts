import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { RedisSpace } from "../../src/index.js";
import { ChildScript } from "../helpers/child.js";
import { Recorder } from "../helpers/recorder.js";
import { entriesAdded } from "./direct-streams.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const peerScript = new URL("./peer.ts", import.meta.url);
const leaseMs = 1_500;


describeWithRedis("RedisSpace direct path between live processes", probe, () => {
  let namespace: string;
  let space: RedisSpace;
  const children: ChildScript[] = [];
  const child = (id: string, kind: string, retry = false): ChildScript => {
    const script = new ChildScript(peerScript, ["--direct", namespace, id, kind, String(leaseMs), ...(retry ? ["retry"] : [])]);
    children.push(script);
    return script;
  };

  beforeEach(() => {
    namespace = uniqueNamespace("direct");
    space = new RedisSpace({ namespace, direct: true, tuning: { leaseMs } });
  });
  afterEach(async () => {
    await space.destroy();
    await Promise.all(children.splice(0).map((script) => (script.process.exitCode === null && !script.process.killed ? script.end() : script.exited)));
  });

  it("sends 10,000 requests and their answers between two processes without a stream write", { timeout: 60_000 }, async () => {
    const peer = child("calc", "calculator");
    await peer.waitFor("ready calc");
    const me = await space.addForeground(Recorder, "me");
    const count = 10_000;
    const answers = Array.from({ length: count }, (_, n) => me.request({ to: "calc", action: { name: "add", args: { a: n, b: 1 } } }));
    expect(await Promise.all(answers)).toEqual(Array.from({ length: count }, (_, n) => n + 1));
    expect(await entriesAdded(namespace, "calc")).toBe(0);
    expect(await entriesAdded(namespace, "me")).toBe(0);
  });

  it("loses nothing when the receiving process is killed mid-stream, and keeps each process's order across the switch to Redis and back", { timeout: 90_000 }, async () => {
    const me = await space.addForeground(Recorder, "me");
    const first = child("seq", "sequence");
    await first.waitFor("ready seq");
    const firstPid = first.process.pid!;
    const count = 600;
    let sent = 0;
    const send = (upTo: number) => {
      for (; sent < upTo; sent++) me.send({ to: "seq", action: { name: "take", args: { n: sent, ms: 2 } } });
    };
    // A stream paced by what the first process has taken, so that the kill lands in its middle.
    send(100);
    await me.until(() => me.notes.length >= 80);
    send(200);
    await me.until(() => me.notes.length >= 150);
    first.process.kill("SIGKILL");
    await first.exited;
    const beforeRestart = new Set(me.notes.map((note) => Number(String(note).split(":")[1])));
    send(400); // the peer is gone: these wait in its Redis mailbox, behind what the dead process held
    const second = child("seq", "sequence", true);
    await second.waitFor("ready seq");
    send(count); // the peer is back: through Redis until what waits there is handled, then direct again
    const taken = (pid: number) => me.notes.filter((note) => String(note).startsWith(`${pid}:`)).map((note) => Number(String(note).split(":")[1]));
    await me.until(() => new Set(me.notes.map((note) => String(note).split(":")[1])).size === count);
    const secondPid = second.process.pid!;
    expect(new Set([...taken(firstPid), ...taken(secondPid)]).size).toBe(count);
    // Each process took its share in the order sent; the second one took again only what the first had taken before the kill.
    for (const pid of [firstPid, secondPid]) {
      const order = taken(pid);
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(new Set(order).size).toBe(order.length);
    }
    for (const n of taken(secondPid)) if (taken(firstPid).includes(n)) expect(beforeRestart, `item ${n} taken twice`).toContain(n);
    // Back on the direct path (once what waited in Redis was handled): a request then leaves no stream entry.
    let n = count;
    await vi.waitFor(
      async () => {
        const before = await entriesAdded(namespace, "seq");
        await me.request({ to: "seq", action: { name: "take", args: { n: n++ } } });
        expect(await entriesAdded(namespace, "seq")).toBe(before);
      },
      { timeout: 15_000, interval: 100 },
    );
  });
});
