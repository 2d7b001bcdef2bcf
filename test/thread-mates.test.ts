/**
 * Agents that share a worker thread hand messages to each other inside it,
 * never cloned and never through the main thread, with everything else as
 * between threads: per-sender order (also while a thread-mate is being
 * placed), mailbox bounds, failures, broadcasts, the debug gate, stats, and
 * `message` listeners.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MultiprocessSpace, type Message, type MultiprocessSpaceOptions } from "../src/index.js";
import { FragileMate, Mate, SlowMate } from "./fixtures/mates.js";

let space: MultiprocessSpace | undefined;

afterEach(async () => {
  await space?.destroy();
  space = undefined;
});

async function spaceWith(options: MultiprocessSpaceOptions, ...ids: string[]): Promise<MultiprocessSpace> {
  space = new MultiprocessSpace(options);
  for (const id of ids) await space.add(Mate, id);
  return space;
}

const mate = (id: string) => space!.handle<Mate>(id);

describe("thread-mates", () => {
  it("hand each other the very objects sent, never a copy", async () => {
    await spaceWith({ threads: 1 }, "a", "b");
    await mate("a").tell({ to: "b", count: 100 });
    const report = await mate("b").report();
    expect(report.seen.a).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(report.sameObjects).toBe(100);
  });

  it("while agents in threads of their own get copies (the same check, across threads)", async () => {
    await spaceWith({}, "a", "b");
    await mate("a").tell({ to: "b", count: 100 });
    const report = await mate("b").report();
    expect(report.seen.a).toHaveLength(100);
    expect(report.sameObjects).toBe(0);
  });

  it("keep one sender's order while a new thread-mate is placed: nothing overtakes, nothing is lost", async () => {
    await spaceWith({ threads: 1 }, "a");
    await mate("a").stream({ to: "late" });
    await space!.add(Mate, "late");
    // Well past the placement: the stream goes on a few hundred messages more.
    for (let seen = 0; seen < 500; ) seen = (await mate("late").report()).seen.a?.length ?? 0;
    const sent = await mate("a").stopStreaming();
    const { seen, otherErrors } = await mate("late").report();
    const { refused } = await mate("a").report();
    const taken = seen.a!;
    const first = taken[0]!;
    // Those sent before it was placed were refused; from the first it took on, every one, in order.
    expect(taken).toEqual(Array.from({ length: taken.length }, (_, i) => first + i));
    expect(refused).toBe(first);
    expect(first + taken.length).toBeLessThanOrEqual(sent);
    expect(otherErrors).toEqual([]);
  });

  it("reach a new thread-mate with each broadcast once, in order, while it is placed", async () => {
    await spaceWith({ threads: 1 }, "a");
    await mate("a").stream({ to: "*" });
    await space!.add(Mate, "late");
    for (let seen = 0; seen < 500; ) seen = (await mate("late").report()).seen.a?.length ?? 0;
    await mate("a").stopStreaming();
    const taken = (await mate("late").report()).seen.a!;
    expect(taken).toEqual(Array.from({ length: taken.length }, (_, i) => taken[0]! + i));
  });

  it("keep a thread-mate's mailbox bounded: past it, MailboxFullError", async () => {
    await spaceWith({ threads: 1 }, "a");
    await space!.add(SlowMate, "slow", undefined, { mailboxSize: 4 });
    const outcome = await mate("a").ask({ to: "slow", count: 20 });
    expect(outcome.full).toBeGreaterThan(0);
    expect(outcome.answered + outcome.full).toBe(20);
    expect(space!.stats().slow!.mailboxDepth).toBe(0);
  });

  it('with "wait", let what is past the bound wait, in order, up to another bound\'s worth', async () => {
    await spaceWith({ threads: 1 }, "a");
    await space!.add(SlowMate, "slow", undefined, { mailboxSize: 4, mailboxPolicy: "wait" });
    await expect(mate("a").ask({ to: "slow", count: 8 })).resolves.toEqual({ answered: 8, full: 0, other: 0 });
    await expect(space!.handle<SlowMate>("slow").order()).resolves.toEqual(Array.from({ length: 8 }, (_, i) => i));
    await expect(mate("a").ask({ to: "slow", count: 20 })).resolves.toMatchObject({ answered: 8, full: 12 });
  });

  it("see a thread-mate's failed loop end the requests waiting on it; it restarts and they talk on", async () => {
    await spaceWith({ threads: 1 }, "a");
    await space!.add(FragileMate, "fragile", undefined, { restart: "on-failure", backoffMs: 10 });
    const waiting = mate("a").call({ to: "fragile", name: "hang" });
    await expect(mate("a").call({ to: "fragile", name: "ping" })).resolves.toEqual({ value: "pong" }); // the hang has reached it
    await space!.handle<FragileMate>("fragile").explode();
    await expect(waiting).resolves.toMatchObject({ error: expect.stringMatching(/^LoopFailedError: .*mate boom/) });
    let answer: unknown;
    do answer = await mate("a").call({ to: "fragile", name: "ping" });
    while ((answer as { error?: string }).error);
    expect(answer).toEqual({ value: "pong" });
    expect(space!.stats().fragile).toMatchObject({ restarts: 1, loopFailures: 1 });
    expect(space!.stats().a).toMatchObject({ restarts: 0 });
  });

  it("reach every agent once with a broadcast, thread-mates and others alike", async () => {
    await spaceWith({ threads: 2 }, "a", "b", "c", "d");
    await mate("a").shout();
    for (const id of ["a", "b", "c", "d"]) {
      let seen: number[] = [];
      while (seen.length === 0) seen = (await mate(id).report()).seen.a ?? [];
      expect(seen, id).toEqual([-1]);
    }
  });

  it("are refused the debug actions on each other, as agents of other threads are", async () => {
    await spaceWith({ threads: 1, debug: true }, "a", "b");
    await expect(mate("a").call({ to: "b", name: "inspect" })).resolves.toMatchObject({ error: expect.stringMatching(/^PermissionDeniedError/) });
  });

  it("count what they hand each other in stats", async () => {
    await spaceWith({ threads: 1 }, "a", "b");
    await mate("a").tell({ to: "b", count: 100 });
    await mate("b").report();
    const stats = space!.stats();
    expect(stats.a).toMatchObject({ sent: 101, received: 1 }); // the tells and its answer to the handle
    expect(stats.b).toMatchObject({ received: 101, mailboxDepth: 0 });
  });

  it("are shown to a message listener while one listens, and only then", async () => {
    await spaceWith({ threads: 1 }, "a", "b");
    const seen: Message[] = [];
    const listener = (message: Message) => message.from === "a" && message.to === "b" && seen.push(message);
    space!.on("message", listener);
    await mate("a").tell({ to: "b", count: 50 });
    await mate("b").report(); // after the tells: the thread reported them before this answer
    expect(seen.map((message) => message.action.args?.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    space!.off("message", listener);
    await mate("a").tell({ to: "b", count: 50 });
    await mate("b").report();
    expect(seen).toHaveLength(50);
  });
});
