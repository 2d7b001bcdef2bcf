/**
 * Raw amqplib on the local broker, set up as AMQPSpace will use it: a topic
 * exchange, publisher confirms, `mandatory`, TCP no-delay, JSON text bodies.
 * The floor under every AMQPSpace figure.
 */
import type { ChannelModel, ConfirmChannel, ConsumeMessage, Options } from "amqplib";
import { once } from "node:events";
import { nanoid } from "nanoid";
import { brokerSettings, connectBroker } from "../lib/broker.js";
import { now, nsSince } from "../lib/clock.js";
import { withDeadline } from "../lib/deadline.js";
import type { Context, Count, Scenario } from "../lib/scenario.js";
import { makeMessage } from "../workers/message.mjs";

/** The publish options of DESIGN.md's wire layout. */
const PUBLISH: Options.Publish = {
  mandatory: true,
  persistent: true,
  contentType: "text/plain",
  contentEncoding: "utf-8",
};

/** Unacked deliveries the broker may push ahead: enough to keep the pipe full, small enough to bound memory. */
const PREFETCH = 1_000;

/** A run that waits longer than this for the broker has stalled. */
const RUN_DEADLINE_MS = 60_000;

type Delivery = (body: unknown) => void;

/** One end: its own connection (as a separate process would have), a confirm channel and an exclusive queue. */
interface Peer {
  connection: ChannelModel;
  channel: ConfirmChannel;
  queue: string;
  /** What is done with each delivery; scenarios swap it between figures. */
  onDelivery: Delivery;
  /** Messages the broker returned as unroutable (`mandatory`). */
  returned: number;
}

/** Two peers, "a" and "b", on a fresh exchange of their own. */
interface Pair {
  a: Peer;
  b: Peer;
  exchange: string;
  publish(from: Peer, to: string, body: unknown): Promise<void>;
  close(): Promise<void>;
}

async function openPeer(exchange: string, id: string, noDelay: boolean): Promise<Peer> {
  const connection = await connectBroker(noDelay);
  const channel = await connection.createConfirmChannel();
  const queue = `${exchange}.${id}`;
  await channel.assertQueue(queue, { exclusive: true, durable: false, autoDelete: true });
  await channel.bindQueue(queue, exchange, id);
  await channel.prefetch(PREFETCH);
  const peer: Peer = { connection, channel, queue, onDelivery: () => {}, returned: 0 };
  channel.on("return", () => (peer.returned += 1));
  await channel.consume(queue, (message: ConsumeMessage | null) => {
    if (message === null) return;
    channel.ack(message);
    peer.onDelivery(JSON.parse(message.content.toString("utf8")));
  });
  return peer;
}

async function declareExchange(exchange: string, noDelay: boolean): Promise<void> {
  const setup = await connectBroker(noDelay);
  try {
    const channel = await setup.createChannel();
    await channel.assertExchange(exchange, "topic", { durable: false, autoDelete: false });
    await channel.close();
  } finally {
    await setup.close();
  }
}

/** Deletes what a pair declared and closes its connections, whatever state they are in. */
async function release(exchange: string, peers: readonly Peer[]): Promise<void> {
  const steps = [
    ...peers.map((peer) => () => peer.channel.deleteQueue(peer.queue)),
    ...peers.slice(0, 1).map((peer) => () => peer.channel.deleteExchange(exchange)),
    ...peers.map((peer) => () => peer.connection.close()),
  ];
  // Every step runs even if one fails: a connection left open would keep the process alive.
  const failed: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failed.push(error);
    }
  }
  if (failed.length > 0) throw new AggregateError(failed, `cleaning up ${exchange} failed`);
}

async function openPair(noDelay: boolean): Promise<Pair> {
  const exchange = `agentspace-bench-${nanoid(8)}`;
  await declareExchange(exchange, noDelay);
  const peers: Peer[] = [];
  try {
    for (const id of ["a", "b"]) peers.push(await openPeer(exchange, id, noDelay));
  } catch (error) {
    await release(exchange, peers).catch(() => {});
    throw error;
  }
  const [a, b] = peers as [Peer, Peer];
  return {
    a,
    b,
    exchange,
    async publish(from, to, body) {
      const content = Buffer.from(JSON.stringify(body), "utf8");
      // false: the channel's buffer is full; wait rather than grow it without bound.
      if (!from.channel.publish(exchange, to, content, PUBLISH)) await once(from.channel, "drain");
    },
    async close() {
      const returned = a.returned + b.returned;
      await release(exchange, peers);
      if (returned > 0) throw new Error(`${returned} message(s) returned unroutable`);
    },
  };
}

/** a publishes n to b; done when b has all and the broker confirmed all. */
async function throughputRun(pair: Pair, n: number): Promise<Count> {
  let received = 0;
  const allReceived = new Promise<void>((resolve) => {
    pair.b.onDelivery = () => {
      if (++received === n) resolve();
    };
  });
  const start = now();
  for (let i = 0; i < n; i++) await pair.publish(pair.a, "b", makeMessage(i, "a", "b"));
  await withDeadline(Promise.all([allReceived, pair.a.channel.waitForConfirms()]), RUN_DEADLINE_MS, "throughput run");
  return { count: n, ns: nsSince(start) };
}

/** k sequential messages from a, each sent when the previous one has arrived: at b, or (roundTrip) back at a. */
async function sequentialRun(pair: Pair, k: number, roundTrip: boolean): Promise<number[]> {
  let arrived: () => void = () => {};
  if (roundTrip) {
    pair.b.onDelivery = (body) => void pair.publish(pair.b, "a", body);
    pair.a.onDelivery = () => arrived();
  } else {
    pair.b.onDelivery = () => arrived();
  }
  const samples: number[] = [];
  for (let i = 0; i < k; i++) {
    const start = now();
    const done = new Promise<void>((resolve) => (arrived = resolve));
    await pair.publish(pair.a, "b", makeMessage(i, "a", "b"));
    await withDeadline(done, RUN_DEADLINE_MS, "sequential message");
    samples.push(nsSince(start));
  }
  await Promise.all([pair.a.channel.waitForConfirms(), pair.b.channel.waitForConfirms()]);
  return samples;
}

/**
 * Opens a pair, measures with it, and closes it. Returns false, with a note,
 * when no broker answers: the scenario is then skipped, not failed.
 */
async function withPair(noDelay: boolean, ctx: Context, measure: (pair: Pair) => Promise<unknown>): Promise<boolean> {
  let pair: Pair;
  try {
    pair = await openPair(noDelay);
  } catch (error) {
    const { hostname, port } = brokerSettings();
    ctx.note(`skipped: no broker answered at ${hostname}:${port} (${error instanceof Error ? error.message : error})`);
    return false;
  }
  try {
    await measure(pair);
  } finally {
    await pair.close();
  }
  return true;
}

export const amqpRaw: Scenario = {
  name: "amqp",
  group: "baselines",
  description: "raw amqplib on the local RabbitMQ: topic exchange, confirms, mandatory, noDelay",
  async run(ctx) {
    const n = ctx.size(10_000, 500);
    const k = ctx.size(1_000, 50);
    // Few samples without noDelay: a round trip there waits out delayed-ACK timers (~90 ms).
    const slowK = ctx.size(10, 3);
    const reachable = await withPair(true, ctx, async (pair) => {
      await ctx.throughput({ key: "throughput", label: "publish → consume, confirmed", unit: "msg/s" }, () =>
        throughputRun(pair, n),
      );
      await ctx.latency({ key: "hop", label: "publish → consume, sequential", unit: "µs" }, () =>
        sequentialRun(pair, k, false),
      );
      await ctx.latency(
        { key: "round-trip", label: "a → b → a round trip, sequential", unit: "µs", vs: "hop" },
        () => sequentialRun(pair, k, true),
      );
    });
    if (!reachable) return;
    await withPair(false, ctx, async (pair) => {
      await ctx.latency({ key: "hop-nagle", label: "publish → consume, without noDelay", unit: "µs", vs: "hop" }, () =>
        sequentialRun(pair, slowK, false),
      );
      await ctx.latency(
        { key: "round-trip-nagle", label: "a → b → a round trip, without noDelay", unit: "µs", vs: "round-trip" },
        () => sequentialRun(pair, slowK, true),
      );
    });
    ctx.note(
      `${n.toLocaleString("en-US")} messages per throughput run, ${k.toLocaleString("en-US")} sequential ` +
        `(${slowK} without noDelay); each peer has its own connection; consumers ack each message`,
    );
    ctx.note(
      "without noDelay a lone publish goes out at once, but a peer that writes twice in a row (here an ack, " +
        "then a publish) has the second write held for the broker's delayed ACK, ~40 ms; a round trip has two",
    );
  },
};
