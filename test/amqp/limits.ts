import { connect, type ChannelModel, type ConsumeMessage } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AmqpTransport } from "../../src/amqp/index.js";
import { DEFAULT_PUBLISHER_LIMITS, Publisher, type PublisherLimits } from "../../src/amqp/publisher.js";
import { encodeMessage } from "../../src/amqp/wire.js";
import { AMQPSpace, MessageValidationError, type Message } from "../../src/index.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { Recorder } from "../helpers/recorder.js";
import { SizeLimitingProxy } from "./size-limiting-proxy.js";
import { nextEvent } from "../helpers/events.js";

const WAIT_MS = 10_000;
const probe = await probeBroker();

let counter = 0;
function message(to: string, name: string, args?: Record<string, unknown>): Message {
  const id = `limits-${process.pid}-${counter++}`;
  return args === undefined ? { meta: { id }, from: "tester", to, action: { name } } : { meta: { id }, from: "tester", to, action: { name, args } };
}

/** What arrives, in order, with a way to wait for the next ones. */
class Arrivals<T> {
  readonly list: T[] = [];
  #wake: Array<() => void> = [];
  push = (item: T): void => {
    this.list.push(item);
    for (const wake of this.#wake.splice(0)) wake();
  };
  async count(n: number, timeoutMs = WAIT_MS): Promise<T[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.list.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} arrival(s), have ${this.list.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => (clearTimeout(timer), resolve()));
      });
    }
    return this.list;
  }
}

describe("publisher limits", () => {
  it("default to RabbitMQ's own max_message_size, 128 MiB, and take only a whole number of bytes", () => {
    expect(DEFAULT_PUBLISHER_LIMITS.maxMessageBytes).toBe(134_217_728);
    for (const bad of [0, -1, 1.5, NaN]) {
      expect(() => new Publisher("x", { maxInFlight: 1, maxBuffered: 1, maxMessageBytes: bad })).toThrow(RangeError);
    }
  });
});

describeWithBroker("AMQP publisher: what it refuses to send (real RabbitMQ)", probe, () => {
  const exchange = uniqueExchange("agentspace-limits");
  const suffix = exchange.slice(exchange.lastIndexOf("-"));
  let model: ChannelModel;
  let spyQueue: string;
  const seen = new Arrivals<Message>();
  const publishers: Publisher[] = [];

  beforeAll(async () => {
    const { hostname, port, username, password, virtualHost: vhost } = probe.options;
    model = await connect({ hostname, port, username, password, vhost });
    model.on("error", () => {});
    const channel = await model.createChannel();
    await channel.assertExchange(exchange, "topic", { durable: true, autoDelete: false });
    // Sees everything published on the exchange, so every message is routable.
    ({ queue: spyQueue } = await channel.assertQueue("", { exclusive: true, autoDelete: true }));
    await channel.bindQueue(spyQueue, exchange, "#");
    await channel.consume(spyQueue, (delivery: ConsumeMessage | null) => delivery && seen.push(JSON.parse(delivery.content.toString("utf8")) as Message), {
      noAck: true,
    });
  });

  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.close(WAIT_MS)));
  });

  afterAll(async () => {
    await model?.close();
  });

  /** A publisher on a confirm channel of its own; `closed` tells whether the broker closed that channel. */
  async function publisher(limits: Partial<PublisherLimits>): Promise<{ publisher: Publisher; closed: () => boolean }> {
    const channel = await model.createConfirmChannel();
    let closed = false;
    channel.on("error", () => {});
    channel.on("close", () => (closed = true));
    const made = new Publisher(exchange, { ...DEFAULT_PUBLISHER_LIMITS, ...limits });
    made.useChannel(channel);
    publishers.push(made);
    return { publisher: made, closed: () => closed };
  }

  it("refuses a message over maxMessageBytes with MessageValidationError naming its size and the limit; the next goes out", async () => {
    const to = `calc${suffix}`;
    const fits = message(to, "store", { blob: "x".repeat(500) });
    const limit = encodeMessage(fits).length; // a body of exactly the limit goes out
    const { publisher: p, closed } = await publisher({ maxMessageBytes: limit });
    const tooLarge = message(to, "store", { blob: "x".repeat(501) });
    const size = encodeMessage(tooLarge).length;

    const failed = nextEvent<[Message, Error]>(p, "publishFailed");
    const before = seen.list.length;
    p.publish(tooLarge);
    p.publish(fits);
    const [refused, error] = await failed;
    expect(refused).toBe(tooLarge);
    expect(error).toBeInstanceOf(MessageValidationError);
    expect(error.message).toBe(`message ${tooLarge.meta.id} to "${to}" is ${size} bytes, over the broker's max_message_size of ${limit}`);
    const arrived = await seen.count(before + 1);
    expect(arrived.slice(before).map((m) => m.meta.id)).toEqual([fits.meta.id]);
    expect(closed()).toBe(false); // the broker never saw it
  });

  it("does not publish a message JSON cannot carry exactly, and names the offending path", async () => {
    const to = `calc${suffix}`;
    const { publisher: p } = await publisher({});
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ v: new Map([["a", 1]]) }, "action.args.v: Map cannot travel as JSON"],
      [{ list: [1, 2, { when: new Date(0) }] }, "action.args.list[2].when: Date cannot travel as JSON"],
      [{ n: NaN }, "action.args.n: NaN cannot travel as JSON (it would arrive as null)"],
      [{ big: 1n }, "action.args.big: BigInt cannot travel as JSON"],
    ];
    const before = seen.list.length;
    for (const [args, problem] of cases) {
      const bad = message(to, "store", args);
      const failed = nextEvent<[Message, Error]>(p, "publishFailed");
      p.publish(bad);
      const [refused, error] = await failed;
      expect(refused).toBe(bad);
      expect(error).toBeInstanceOf(MessageValidationError);
      expect(error.message).toBe(`message ${bad.meta.id} to "${to}" was not sent: ${problem}`);
    }
    const good = message(to, "store", { v: [["a", 1]], optional: undefined });
    p.publish(good);
    const arrived = await seen.count(before + 1);
    expect(arrived.slice(before).map((m) => m.meta.id)).toEqual([good.meta.id]);
  });

  it("in an AMQPSpace, answers the sender of such a message with the MessageValidationError", async () => {
    const space = new AMQPSpace({ exchange: uniqueExchange("agentspace-limits-space") });
    try {
      const me = await space.addForeground(Recorder, `me${suffix}`);
      const request = me.request({ to: `nobody${suffix}`, action: { name: "store", args: { v: new Map([["a", 1]]) } } });
      await expect(request).rejects.toThrow(MessageValidationError);
      await expect(request).rejects.toThrow(/args\.v: Map cannot travel as JSON/);
    } finally {
      await space.destroy();
    }
  });
});

describeWithBroker("AMQP transport: a message the broker closes the channel over", probe, () => {
  const LIMIT = 64 * 1024;
  let proxy: SizeLimitingProxy;
  let transport: AmqpTransport | undefined;

  beforeAll(async () => {
    proxy = await SizeLimitingProxy.start({ host: probe.options.hostname, port: probe.options.port }, LIMIT);
  });

  afterAll(async () => {
    await transport?.close();
    await proxy?.close();
  });

  it("is reported failed and never sent again; what was in flight with it is sent once reconnected; larger ones are refused at the sender from then on", async () => {
    const exchange = uniqueExchange("agentspace-refused");
    const id = `keeper${exchange.slice(exchange.lastIndexOf("-"))}`;
    // Through a proxy that refuses bodies over 64 KiB as RabbitMQ does over its max_message_size.
    const options = { ...probe.options, hostname: "127.0.0.1", port: proxy.port };
    const t = await AmqpTransport.open(options, exchange, { reconnect: { initialMs: 10, maxMs: 100 } });
    transport = t;
    t.on("error", () => {});
    const disconnects = new Arrivals<Error>();
    t.on("disconnected", disconnects.push);
    const inbox = new Arrivals<Message>();
    await t.attach(id, (m, done) => (done(), inbox.push(m)));

    // Nothing else in flight on the publish channel: a confirm the refusal cut off would be sent again, rightly.
    const big = message(id, "store", { blob: "x".repeat(LIMIT) });
    const bigSize = encodeMessage(big).length;
    const after = [message(id, "after", { n: 1 }), message(id, "after", { n: 2 })];
    const failed = nextEvent<[Message, Error]>(t, "publishFailed");
    const reconnected = nextEvent(t, "connected");
    t.publish(big);
    for (const m of after) t.publish(m);

    const [refused, error] = await failed;
    expect(refused).toBe(big);
    expect(error).toBeInstanceOf(MessageValidationError);
    expect(error.message).toBe(`message ${big.meta.id} to "${id}" is ${bigSize} bytes, over the broker's max_message_size of ${LIMIT}`);
    await reconnected;
    await inbox.count(2);
    expect(inbox.list.map((m) => m.meta.id)).toEqual(after.map((m) => m.meta.id));

    // The broker's limit is now known: a body over it is refused here, and the channel stays up.
    const bigger = message(id, "store", { blob: "y".repeat(LIMIT * 2) });
    const failedAgain = nextEvent<[Message, Error]>(t, "publishFailed");
    t.publish(bigger);
    const [refusedAgain, errorAgain] = await failedAgain;
    expect(refusedAgain).toBe(bigger);
    expect(errorAgain.message).toMatch(new RegExp(`is ${encodeMessage(bigger).length} bytes, over the broker's max_message_size of ${LIMIT}$`));
    const last = message(id, "last");
    t.publish(last);
    await inbox.count(3);
    expect(inbox.list.at(-1)?.meta.id).toBe(last.meta.id);
    expect(proxy.refusals).toBe(1);
    expect(disconnects.list).toHaveLength(1);
    expect(inbox.list.some((m) => m.action.name === "store")).toBe(false);
  });
});
