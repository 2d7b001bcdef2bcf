import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { RedisSpace } from "../../src/index.js";
import { Calculator, SerialWorker } from "../fixtures/calculator.js";
import { Sequence } from "../fixtures/direct-sequence.js";
import { freePort } from "../helpers/free-port.js";
import { Recorder } from "../helpers/recorder.js";
import { Relay } from "../helpers/relay.js";
import { entriesAdded } from "./direct-streams.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();

describeWithRedis("RedisSpace direct path through broken connections", probe, () => {
  let namespace: string;
  const spaces: RedisSpace[] = [];
  let relay: Relay;

  beforeEach(async () => {
    namespace = uniqueNamespace("direct-break");
    relay = new Relay();
  });
  afterEach(async () => {
    await Promise.all(spaces.splice(0).map((space) => space.destroy()));
    await relay.close();
  });

  it("handles each message once, in order, when the connection is cut mid-stream and both processes live on", { timeout: 60_000 }, async () => {
    const port = await freePort();
    await relay.start(port);
    // The receiver is reached through the relay: cutting it breaks the connection both ways.
    const receiver = new RedisSpace({ namespace, direct: { port, advertise: `127.0.0.1:${relay.port}` } });
    const sender = new RedisSpace({ namespace, direct: true });
    spaces.push(receiver, sender);
    await receiver.add(Sequence, "seq", { observer: "me" });
    const me = await sender.addForeground(Recorder, "me");
    const count = 2_000;
    for (let n = 0; n < count / 2; n++) me.send({ to: "seq", action: { name: "take", args: { n } } });
    await me.until(() => me.notes.length >= 200);
    relay.cut();
    for (let n = count / 2; n < count; n++) me.send({ to: "seq", action: { name: "take", args: { n } } });
    await me.until(() => new Set(me.notes).size === count);
    const taken = me.notes.map((note) => Number(String(note).split(":")[1]));
    expect(taken).toEqual(Array.from({ length: count }, (_, n) => n)); // once each, in the order sent
    expect(await entriesAdded(namespace, "seq")).toBeGreaterThan(0); // the cut sent part of them through Redis
    // And back on the direct path once the sender tries the peer again: a request then adds
    // nothing to the mailbox in Redis. (Through the relay again, or on the connection the
    // receiver opened to the sender for its notes: either is direct.)
    let n = count;
    await vi.waitFor(
      async () => {
        const before = await entriesAdded(namespace, "seq");
        await me.request({ to: "seq", action: { name: "take", args: { n: n++ } } });
        expect(await entriesAdded(namespace, "seq")).toBe(before);
      },
      { timeout: 15_000, interval: 200 },
    );
  });

  it("counts messages taken over the direct path and not yet answered in stats().unacked", { timeout: 30_000 }, async () => {
    const host = new RedisSpace({ namespace, direct: true });
    const caller = new RedisSpace({ namespace, direct: true });
    spaces.push(host, caller);
    await host.add(SerialWorker, "busy");
    const me = await caller.addForeground(Recorder, "me");
    const answers = [1, 2, 3, 4].map((i) => me.request({ to: "busy", action: { name: "step", args: { name: `s${i}`, ms: 150 } } }));
    await vi.waitFor(() => expect(host.stats().busy).toMatchObject({ unacked: 4, waiting: 0 }), { timeout: 5_000, interval: 10 });
    await Promise.all(answers);
    await vi.waitFor(() => expect(host.stats().busy!.unacked).toBe(0), { timeout: 5_000, interval: 10 });
    expect(await entriesAdded(namespace, "busy")).toBe(0);
  });

  it("follows an agent that moves to another live process", { timeout: 30_000 }, async () => {
    const first = new RedisSpace({ namespace, direct: true });
    const second = new RedisSpace({ namespace, direct: true });
    const caller = new RedisSpace({ namespace, direct: true });
    spaces.push(first, second, caller);
    await first.add(Calculator, "calc", { start: 100 });
    const me = await caller.addForeground(Recorder, "me");
    await expect(me.request({ to: "calc", action: { name: "accumulate", args: { n: 1 } } })).resolves.toBe(101);
    await first.remove("calc");
    await second.add(Calculator, "calc", { start: 200 });
    // The first process no longer holds it: refused there, the message goes through Redis to the second.
    await expect(me.request({ to: "calc", action: { name: "accumulate", args: { n: 1 } } })).resolves.toBe(201);
    await expect(me.request({ to: "calc", action: { name: "accumulate", args: { n: 1 } } })).resolves.toBe(202);
  });
});
