/**
 * The mailbox on its own: the bound it keeps, the order it hands messages
 * out in, and the holds of serial actions, across instances that come and go.
 */
import { describe, expect, it } from "vitest";
import { PROCESS, RECEIVE } from "../src/agent-link.js";
import { DEPTH, RECEIVED, SLOT_SIZE } from "../src/host/counters.js";
import { Mailbox, type MailboxConsumer, type MailboxOptions } from "../src/host/mailbox.js";
import type { Message } from "../src/message.js";

function action(i: number): Message {
  return { meta: { id: `m${i}` }, from: "sender", to: "box", action: { name: "take", args: { i } } };
}

function answer(i: number): Message {
  return { meta: { id: `a${i}`, parent_id: `r${i}` }, from: "other", to: "box", action: { name: "[response]", args: { value: i } } };
}

function mailbox(options: MailboxOptions) {
  const counts = new Float64Array(SLOT_SIZE);
  const refused: Array<[number, string]> = [];
  const box = new Mailbox("box", options, counts, 0, {
    refuse: (message, error) => refused.push([message.action.args!.i as number, error.name]),
    holdFailed: (error) => {
      throw error;
    },
  });
  return { box, counts, refused };
}

/** A consumer that records what it takes; `hold` makes it serial: each message holds the mailbox until released. */
function consumer(hold = false) {
  const taken: number[] = [];
  const releases: Array<() => void> = [];
  const consumer: MailboxConsumer = {
    [RECEIVE]: () => true,
    [PROCESS]: (message) => {
      taken.push(message.action.args!.i as number);
      if (hold) return new Promise<void>((resolve) => releases.push(resolve));
    },
  };
  return { consumer, taken, releases };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("Mailbox", () => {
  it("hands messages out in order and counts them in and out", async () => {
    const { box, counts } = mailbox({ size: 100, policy: "reject" });
    const { consumer: c, taken } = consumer();
    box.attach(c);
    for (let i = 0; i < 50; i++) box.deliver(action(i));
    expect(counts[DEPTH]).toBe(50);
    await settle();
    expect(taken).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(counts[DEPTH]).toBe(0);
    expect(counts[RECEIVED]).toBe(50);
  });

  it("refuses past the bound with MailboxFullError, and never counts answers against it", async () => {
    const { box, counts, refused } = mailbox({ size: 3, policy: "reject" });
    for (let i = 0; i < 5; i++) box.deliver(action(i));
    box.deliver(answer(9)); // held too, without counting
    expect(counts[DEPTH]).toBe(3);
    expect(refused).toEqual([
      [3, "MailboxFullError"],
      [4, "MailboxFullError"],
    ]);
  });

  it('with "wait", keeps what is past the bound in order until there is room, and refuses past another bound', async () => {
    const { box, counts, refused } = mailbox({ size: 2, policy: "wait" });
    for (let i = 0; i < 5; i++) box.deliver(action(i));
    expect(refused).toEqual([[4, "MailboxFullError"]]);
    const { consumer: c, taken } = consumer();
    box.attach(c);
    await settle();
    expect(taken).toEqual([0, 1, 2, 3]);
    expect(counts[DEPTH]).toBe(0);
  });

  it("keeps a serial consumer's order and holds past thousands of messages (its ring grows under a hold)", async () => {
    const { box, counts } = mailbox({ size: 20_000, policy: "reject" });
    const { consumer: c, taken, releases } = consumer(true);
    box.attach(c);
    for (let i = 0; i < 10_000; i++) box.deliver(action(i));
    for (let i = 0; i < 10_000; i++) {
      await settle();
      expect(releases).toHaveLength(i + 1); // exactly one at a time
      releases[i]!();
    }
    await settle();
    expect(taken).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    expect(counts[DEPTH]).toBe(0);
  });

  it("drops what a detached instance had queued, holds arrivals for the next, and ignores the old instance's hold", async () => {
    const { box, counts } = mailbox({ size: 100, policy: "reject" });
    const first = consumer(true);
    box.attach(first.consumer);
    for (let i = 0; i < 3; i++) box.deliver(action(i));
    await settle();
    expect(first.taken).toEqual([0]); // held by its first message
    box.detach();
    expect(counts[DEPTH]).toBe(0); // 1 and 2 went with it
    box.deliver(action(3));
    expect(counts[DEPTH]).toBe(1);
    const second = consumer(true);
    box.attach(second.consumer);
    box.deliver(action(4));
    await settle();
    expect(second.taken).toEqual([3]);
    first.releases[0]!(); // the old hold settles: it must not let the second instance's queue go
    await settle();
    expect(second.taken).toEqual([3]);
    second.releases[0]!();
    await settle();
    expect(second.taken).toEqual([3, 4]);
  });

  it("gives back the room of a message the consumer deals with on arrival", () => {
    const { box, counts } = mailbox({ size: 100, policy: "reject" });
    box.attach({ [RECEIVE]: () => false, [PROCESS]: () => undefined });
    for (let i = 0; i < 10; i++) box.deliver(action(i));
    expect(counts[DEPTH]).toBe(0);
    expect(counts[RECEIVED]).toBe(10);
  });

  it("refuses what waits or is held when it closes, and everything delivered after", () => {
    const { box, refused } = mailbox({ size: 1, policy: "wait" });
    box.deliver(action(0));
    box.deliver(action(1));
    box.close(new Error("gone"));
    box.deliver(action(2));
    expect(refused.map(([i]) => i)).toEqual([0, 1, 2]);
  });
});
