/**
 * Delivery inside one thread: the ceiling of LocalSpace, and the costs that
 * decide its design (a mailbox array against a microtask per message, and
 * why nothing should be cloned inside one thread).
 */
import { nanoid } from "nanoid";
import { now, nsSince } from "../lib/clock.js";
import type { Count, Scenario } from "../lib/scenario.js";
import { makeMessage, type BenchMessage } from "../workers/message.mjs";

type Handler = (message: BenchMessage) => void;
/** How messages reach a handler; each strategy is one figure. */
type Strategy = (handler: Handler) => (message: BenchMessage) => void;

/** Pushes onto an array and drains it in one microtask, however many arrive meanwhile. */
const arrayMailbox: Strategy = (handler) => {
  const mailbox: BenchMessage[] = [];
  let scheduled = false;
  const drain = () => {
    scheduled = false;
    // Index loop, then truncate: shift() per message would be O(n) on long queues.
    for (let i = 0; i < mailbox.length; i++) handler(mailbox[i]!);
    mailbox.length = 0;
  };
  return (message) => {
    mailbox.push(message);
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(drain);
    }
  };
};

const microtaskEach: Strategy = (handler) => (message) => queueMicrotask(() => handler(message));

const clonedEach: Strategy = (handler) => (message) => handler(structuredClone(message));

/**
 * Messages arrive in bursts, with a yield between bursts, as they would from
 * ports or from agents' actions; the same 64 as the batched figures elsewhere.
 * (Delivering all n in one synchronous loop would measure a queue of n.)
 */
const BURST = 64;

/**
 * Delivers n messages in bursts and resolves when the handler has seen every
 * one. Each message is made in the timed loop, as every send makes one.
 */
async function deliverAll(strategy: Strategy, n: number): Promise<Count> {
  let seen = 0;
  let sum = 0;
  const deliver = strategy((message) => {
    sum += message.action.args.n;
    seen += 1;
  });
  const start = now();
  for (let i = 0; i < n; ) {
    for (const end = Math.min(n, i + BURST); i < end; i++) deliver(makeMessage(i, "a", "b"));
    // Yield: the microtasks queued by this burst run before the next burst.
    await null;
  }
  // Cover a strategy that delivers later than the microtasks of its burst.
  while (seen < n) await new Promise<void>((resolve) => setImmediate(resolve));
  const ns = nsSince(start);
  // The handler reads every message; the sum proves each arrived exactly once.
  if (sum !== (n * (n - 1)) / 2) throw new Error(`delivery lost or repeated messages (sum ${sum})`);
  return { count: n, ns };
}

/** n messages through an array mailbox drained in one microtask (`mailbox`): LocalSpace's ceiling. */
export function mailboxRun(n: number): Promise<Count> {
  return deliverAll(arrayMailbox, n);
}

async function makeIds(n: number): Promise<Count> {
  const start = now();
  let length = 0;
  for (let i = 0; i < n; i++) length += nanoid().length;
  if (length !== n * 21) throw new Error("nanoid gave an id of unexpected length");
  return { count: n, ns: nsSince(start) };
}

export const inThread: Scenario = {
  name: "in-thread",
  group: "baselines",
  description: "delivery inside one thread: mailbox array, microtask per message, structuredClone per message; nanoid",
  async run(ctx) {
    const n = ctx.size(1_000_000, 20_000);
    const cloned = ctx.size(200_000, 5_000);
    const vs = "mailbox";
    await ctx.throughput({ key: vs, label: "array mailbox drained in one microtask", unit: "msg/s" }, () =>
      deliverAll(arrayMailbox, n),
    );
    await ctx.throughput({ key: "microtask-each", label: "one queueMicrotask per message", unit: "msg/s", vs }, () =>
      deliverAll(microtaskEach, n),
    );
    await ctx.throughput({ key: "clone-each", label: "structuredClone per message", unit: "msg/s", vs }, () =>
      deliverAll(clonedEach, cloned),
    );
    await ctx.throughput({ key: "nanoid", label: "nanoid() per message", unit: "ids/s" }, () => makeIds(n));
    ctx.note(
      `${n.toLocaleString("en-US")} messages per run (${cloned.toLocaleString("en-US")} when cloned), ` +
        `in bursts of ${BURST}, each message made in the timed loop as a send makes it`,
    );
  },
};
