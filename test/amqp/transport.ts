import { readFileSync } from "node:fs";
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AmqpConnectionError, AmqpPublishError, AmqpTransport, resolveAmqpOptions } from "../../src/amqp/index.js";
import type { TransportTuning } from "../../src/amqp/transport.js";
import { DuplicateAgentError, MessageValidationError } from "../../src/errors.js";
import type { Message } from "../../src/message.js";
import { describeWithBroker, listBroker, probeBroker, rabbitmqctl, uniqueExchange } from "../helpers/broker.js";
import { nextEvent } from "../helpers/events.js";

interface Captured {
  routing_key: string;
  properties: { content_type: string; content_encoding: string; application_headers: string; delivery_mode: number; priority: number };
  body_raw: string;
}
// Real traffic recorded from Python Agency's AMQPSpace (a copy of the shared capture).
const capturePath = new URL("../fixtures/agency-1.6.3-amqp-capture.json", import.meta.url);
const capture = JSON.parse(readFileSync(capturePath, "utf8")) as { captured: Captured[] };

const WAIT_MS = 10_000;

/** Waits until `condition` holds, re-checking whenever `poke` is called; bounded. */
class Waiter {
  #checks: Array<() => void> = [];
  poke(): void {
    for (const check of this.#checks.splice(0)) check();
  }
  until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (!condition()) return void this.#checks.push(check);
        clearTimeout(timer);
        resolve();
      };
      check();
    });
  }
}

/** What one attached id received; acks at once unless told to hold. */
class Inbox extends Waiter {
  messages: Message[] = [];
  redelivered: boolean[] = [];
  held: Array<() => void> = [];
  constructor(readonly hold = false) {
    super();
  }
  readonly deliver = (message: Message, done: () => void, redelivered: boolean): void => {
    this.messages.push(message);
    this.redelivered.push(redelivered);
    if (this.hold) this.held.push(done);
    else done();
    this.poke();
  };
  count(n: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.messages.length >= n, `${n} message(s), have ${this.messages.length}`, timeoutMs);
  }
}

function message(to: string, name: string, args?: Record<string, unknown>, from = "tester"): Message {
  const id = `m-${Math.random().toString(36).slice(2)}`;
  return args === undefined ? { meta: { id }, from, to, action: { name } } : { meta: { id }, from, to, action: { name, args } };
}

const probe = await probeBroker();

describe("AMQP options", () => {
  it("defaults to localhost:5672 guest/guest on vhost /, and reads AMQP_* variables", () => {
    expect(resolveAmqpOptions({}, {})).toMatchObject({
      hostname: "localhost",
      port: 5672,
      username: "guest",
      password: "guest",
      virtualHost: "/",
      useSsl: false,
    });
    const env = { AMQP_HOST: "rabbit", AMQP_PORT: "5673", AMQP_USERNAME: "u", AMQP_PASSWORD: "p", AMQP_VHOST: "v" };
    expect(resolveAmqpOptions({}, env)).toMatchObject({ hostname: "rabbit", port: 5673, username: "u", password: "p", virtualHost: "v" });
    expect(resolveAmqpOptions({ hostname: "given" }, env).hostname).toBe("given");
    expect(() => resolveAmqpOptions({}, { AMQP_PORT: "abc" })).toThrow(/AMQP_PORT/);
  });

  it("fails fast, naming host and port, when no broker answers", async () => {
    const opening = AmqpTransport.open({ hostname: "127.0.0.1", port: 1 }, uniqueExchange());
    await expect(opening).rejects.toThrow(AmqpConnectionError);
    await expect(opening).rejects.toThrow(/127\.0\.0\.1:1\b/);
  });
});

describeWithBroker("AmqpTransport on a real RabbitMQ", probe, () => {
  const exchange = uniqueExchange();
  // Queue names are per vhost, not per exchange: keep ids apart from other runs and suites.
  const suffix = exchange.slice(exchange.lastIndexOf("-"));
  const id = (name: string) => `${name}${suffix}`;
  const open: AmqpTransport[] = [];
  let raw: ChannelModel | undefined;
  let rawChannel: Channel;

  async function transport(tuning: TransportTuning = {}): Promise<AmqpTransport> {
    const opened = await AmqpTransport.open(probe.options, exchange, tuning);
    opened.on("error", () => {}); // tests that care listen themselves
    open.push(opened);
    return opened;
  }

  const spies: string[] = [];

  /** A queue bound with "#": sees everything published on the exchange, as the capture was made. */
  async function spy(): Promise<{ seen: ConsumeMessage[]; waiter: Waiter }> {
    const seen: ConsumeMessage[] = [];
    const waiter = new Waiter();
    const { queue } = await rawChannel.assertQueue("", { exclusive: true, autoDelete: true });
    spies.push(queue); // deleted after the test: it would make every message routable
    await rawChannel.bindQueue(queue, exchange, "#");
    await rawChannel.consume(queue, (delivery) => delivery && (seen.push(delivery), waiter.poke()), { noAck: true });
    return { seen, waiter };
  }

  // A plain amqplib connection of the test's own, for spying and raw publishing.
  // Opened again when the restart test has cut it.
  async function rawConnection(): Promise<void> {
    if (raw) return;
    const { hostname, port, username, password, virtualHost: vhost } = probe.options;
    const model = await connect({ hostname, port, username, password, vhost });
    model.on("error", () => {});
    model.on("close", () => (raw = undefined));
    rawChannel = await model.createChannel();
    raw = model;
  }

  beforeEach(rawConnection);

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close()));
    const queues = spies.splice(0);
    if (raw) for (const queue of queues) await rawChannel.deleteQueue(queue); // else they went with the connection
  });

  afterAll(async () => {
    await rawConnection();
    await rawChannel.deleteExchange(exchange);
    await raw?.close();
  });

  it.skipIf(!probe.ctl)("declares the wire layout of Python Agency", async () => {
    const t = await transport();
    const [alice, bob] = [id("alice"), id("bob")];
    await t.attach(alice, new Inbox().deliver);
    await t.attach(bob, new Inbox().deliver);

    const exchanges = await listBroker("list_exchanges", "name", "type", "durable", "auto_delete", "arguments");
    expect(exchanges.filter(([name]) => name === exchange)).toEqual([[exchange, "topic", "true", "false", "[]"]]);

    const bindings = await listBroker("list_bindings", "source_name", "destination_name", "routing_key");
    expect(bindings.filter(([source]) => source === exchange).sort()).toEqual(
      [
        [exchange, alice, alice],
        [exchange, `${alice}-broadcast`, "__broadcast__"],
        [exchange, bob, bob],
        [exchange, `${bob}-broadcast`, "__broadcast__"],
      ].sort(),
    );

    const queues = await listBroker("list_queues", "name", "durable", "exclusive", "auto_delete", "arguments", "consumers");
    const ours = queues.filter(([name]) => name?.endsWith(suffix) || name?.endsWith(`${suffix}-broadcast`));
    // As in the capture: durable false, exclusive true, auto_delete true, no arguments, one consumer.
    expect(ours.sort()).toEqual(
      [
        [alice, "false", "true", "true", "[]", "1"],
        [`${alice}-broadcast`, "false", "true", "true", "[]", "1"],
        [bob, "false", "true", "true", "[]", "1"],
        [`${bob}-broadcast`, "false", "true", "true", "[]", "1"],
      ].sort(),
    );

    await t.detach(bob);
    const after = (await listBroker("list_queues", "name")).map(([name]) => name);
    expect(after).not.toContain(bob);
    expect(after).not.toContain(`${bob}-broadcast`);
    expect(after).toContain(alice);
  });

  it("publishes what Python Agency publishes: same routing keys, properties and bodies", async () => {
    const { seen, waiter } = await spy();
    const t = await transport();
    t.on("unroutable", () => {}); // the capture's messages to "nobody"
    const originals = capture.captured.map((c) => JSON.parse(c.body_raw) as Message);
    for (const m of originals) t.publish(m);
    await waiter.until(() => seen.length === originals.length, `${originals.length} messages on the spy queue`);

    seen.forEach((delivery, i) => {
      const captured = capture.captured[i] as Captured;
      expect(delivery.fields.exchange).toBe(exchange);
      expect(delivery.fields.routingKey).toBe(captured.routing_key);
      const p = delivery.properties;
      expect(p.contentType).toBe(captured.properties.content_type);
      expect(p.contentEncoding).toBe(captured.properties.content_encoding);
      expect(p.deliveryMode).toBe(captured.properties.delivery_mode);
      expect(p.priority).toBe(captured.properties.priority);
      expect(p.headers).toEqual(JSON.parse(captured.properties.application_headers));
      expect(p.replyTo).toBeUndefined();
      const body = delivery.content.toString("utf8");
      expect(JSON.parse(body)).toEqual(JSON.parse(captured.body_raw));
      expect(body).not.toContain("null");
    });
  });

  it("omits optional fields instead of sending null", async () => {
    const { seen, waiter } = await spy();
    const t = await transport();
    t.on("unroutable", () => {});
    t.publish({ meta: { id: "x1", parent_id: undefined }, from: "a", to: "b", action: { name: "ping", args: undefined } });
    await waiter.until(() => seen.length === 1, "the message on the spy queue");
    expect(JSON.parse(seen[0]!.content.toString("utf8"))).toStrictEqual({ meta: { id: "x1" }, from: "a", to: "b", action: { name: "ping" } });
  });

  it("accepts the bodies Python Agency publishes, direct and broadcast", async () => {
    const t = await transport();
    const alice = new Inbox();
    const bob = new Inbox();
    await t.attach(id("alice"), alice.deliver);
    await t.attach(id("bob"), bob.deliver);
    for (const c of capture.captured) {
      const p = c.properties;
      const key = c.routing_key === "__broadcast__" ? c.routing_key : id(c.routing_key);
      rawChannel.publish(exchange, key, Buffer.from(c.body_raw, "utf8"), {
        contentType: p.content_type,
        contentEncoding: p.content_encoding,
        deliveryMode: p.delivery_mode,
        priority: p.priority,
      });
    }
    const bodiesFor = (key: string) => capture.captured.filter((c) => c.routing_key === key).map((c) => JSON.parse(c.body_raw));
    const broadcasts = bodiesFor("__broadcast__");
    await alice.count(bodiesFor("alice").length + broadcasts.length);
    await bob.count(bodiesFor("bob").length + broadcasts.length);
    // Each queue keeps its order; between the direct and the broadcast queue there is none.
    for (const [inbox, name] of [[alice, "alice"], [bob, "bob"]] as const) {
      expect(inbox.messages.filter((m) => m.to !== "*")).toEqual(bodiesFor(name));
      expect(inbox.messages.filter((m) => m.to === "*")).toEqual(broadcasts);
    }
  });

  it("delivers a broadcast to the broadcast queue of every attached id, on every transport", async () => {
    const [t1, t2] = [await transport(), await transport()];
    const inboxes = { a: new Inbox(), b: new Inbox(), c: new Inbox() };
    await t1.attach(id("a"), inboxes.a.deliver);
    await t1.attach(id("b"), inboxes.b.deliver);
    await t2.attach(id("c"), inboxes.c.deliver);
    const hello = message("*", "say", { content: "hi all" }, "a");
    t2.publish(hello);
    for (const inbox of Object.values(inboxes)) await inbox.count(1);
    for (const inbox of Object.values(inboxes)) expect(inbox.messages).toEqual([hello]);
  });

  it("keeps the order of messages from one sender to one receiver", async () => {
    const t = await transport();
    const inbox = new Inbox();
    await t.attach(id("ordered"), inbox.deliver);
    const n = 3_000;
    for (let i = 0; i < n; i++) t.publish(message(id("ordered"), "count", { i }));
    await inbox.count(n);
    expect(inbox.messages.map((m) => m.action.args?.i)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it("refuses an id another connection holds with DuplicateAgentError, and both connections keep working", async () => {
    const [t1, t2] = [await transport(), await transport()];
    const first = new Inbox();
    await t1.attach(id("solo"), first.deliver);
    await expect(t1.attach(id("solo"), () => {})).rejects.toThrow(DuplicateAgentError);
    const refused = t2.attach(id("solo"), () => {});
    await expect(refused).rejects.toThrow(DuplicateAgentError);
    await expect(refused).rejects.toThrow(/"solo-\w+" is held elsewhere on the broker/);

    const other = new Inbox();
    await t2.attach(id("other"), other.deliver); // t2's connection survived the refusal
    t2.publish(message(id("solo"), "ping"));
    t1.publish(message(id("other"), "ping"));
    await first.count(1);
    await other.count(1);
    expect(t1.connected && t2.connected).toBe(true);
  });

  it("reports a message no queue takes as unroutable, with the message", async () => {
    const t = await transport();
    const lost = message(id("nobody-here"), "ping", { n: 1 }, "sender");
    const unroutable = nextEvent<[Message]>(t, "unroutable");
    t.publish(lost);
    expect((await unroutable)[0]).toEqual(lost);
  });

  it("reports messages to a detached id as unroutable", async () => {
    const t = await transport();
    await t.attach(id("short-lived"), new Inbox().deliver);
    await t.detach(id("short-lived"));
    const unroutable = nextEvent<[Message]>(t, "unroutable");
    t.publish(message(id("short-lived"), "ping"));
    expect((await unroutable)[0].to).toBe(id("short-lived"));
  });

  it("acks only on done(), bounds unacked deliveries by prefetch, and redelivers what is handed back", async () => {
    const t = await transport({ prefetch: 2 });
    const inbox = new Inbox(true);
    await t.attach(id("slow"), inbox.deliver);
    const sent = [1, 2, 3].map((n) => message(id("slow"), "work", { n }));
    for (const m of sent) t.publish(m);
    await inbox.count(2);
    if (probe.ctl) {
      const row = (await listBroker("list_queues", "name", "messages_ready", "messages_unacknowledged")).find(([n]) => n === id("slow"));
      expect(row).toEqual([id("slow"), "1", "2"]);
    }
    expect(inbox.messages).toEqual(sent.slice(0, 2));

    t.redeliver(id("slow")); // e.g. its agent died before finishing: the broker delivers both again
    await inbox.count(4);
    expect(inbox.messages.slice(2)).toEqual(sent.slice(0, 2));
    expect(inbox.redelivered).toEqual([false, false, true, true]);

    for (const done of inbox.held.splice(0)) done();
    await inbox.count(5);
    expect(inbox.messages[4]).toEqual(sent[2]);
    inbox.held.splice(0).forEach((done) => done());
    if (probe.ctl) {
      const counts = async () => (await listBroker("list_queues", "name", "messages")).find(([n]) => n === id("slow"))?.[1];
      await expect.poll(counts, { timeout: WAIT_MS }).toBe("0");
    }
  });

  it("consumes again when the broker closes the consuming channel, and other traffic goes on", async () => {
    // Catch the consuming channel (the one that gets a prefetch) to provoke the broker into closing it.
    const prefetch = vi.spyOn(Object.getPrototypeOf(rawChannel) as Channel, "prefetch");
    const t = await transport();
    const consuming = prefetch.mock.contexts.at(-1) as Channel;
    prefetch.mockRestore();
    const inbox = new Inbox();
    await t.attach(id("steady"), inbox.deliver);
    const error = nextEvent<[Error]>(t, "error");
    consuming.ack({ fields: { deliveryTag: 999_999 } } as ConsumeMessage); // unknown tag: 406, channel closed
    expect((await error)[0].message).toMatch(/consuming channel/);
    const probeMessage = message(id("steady"), "still-there");
    t.on("unroutable", () => {});
    // The queues come back a moment after the channel: retry until one gets through.
    await vi.waitFor(
      async () => {
        t.publish(probeMessage);
        await inbox.count(1, 200);
      },
      { timeout: WAIT_MS, interval: 50 },
    );
    expect(inbox.messages[0]).toEqual(probeMessage);
    expect(t.connected).toBe(true);
    expect(t.ids).toEqual([id("steady")]);
  });

  it("acks and drops a malformed message with an error event, and goes on", async () => {
    const t = await transport();
    const inbox = new Inbox();
    await t.attach(id("robust"), inbox.deliver);
    const error = nextEvent<[Error]>(t, "error");
    rawChannel.publish(exchange, id("robust"), Buffer.from("{not json"));
    rawChannel.publish(exchange, id("robust"), Buffer.from(JSON.stringify({ meta: {}, from: "x", to: "robust", action: { name: "a" } })));
    const good = message(id("robust"), "fine");
    t.publish(good);
    expect((await error)[0]).toBeInstanceOf(MessageValidationError);
    await inbox.count(1);
    expect(inbox.messages).toEqual([good]);
  });

  it("reports publishes after close as failed, and closes without leaving anything behind", async () => {
    const t = await transport();
    await t.attach(id("closing"), new Inbox().deliver);
    await t.close();
    const failed = nextEvent<[Message, Error]>(t, "publishFailed");
    t.publish(message(id("closing"), "late"));
    const [, error] = await failed;
    expect(error).toBeInstanceOf(AmqpPublishError);
    expect(error.message).toMatch(/closed/);
    if (probe.ctl) expect((await listBroker("list_queues", "name")).map(([n]) => n)).not.toContain(id("closing"));
  });

  it.skipIf(!probe.ctl)(
    "survives a broker restart: reconnects, re-attaches, sends what was buffered meanwhile",
    async () => {
      const t = await transport({ reconnect: { initialMs: 100, maxMs: 1_000 }, maxBuffered: 2 });
      const inbox = new Inbox();
      await t.attach(id("phoenix"), inbox.deliver);
      const disconnected = nextEvent(t, "disconnected", 60_000);
      const reconnected = nextEvent(t, "connected", 90_000); // may come before start_app returns
      try {
        await rabbitmqctl("stop_app");
        await disconnected;
        expect(t.connected).toBe(false);
        const failed = nextEvent<[Message, Error]>(t, "publishFailed");
        const buffered = [message(id("phoenix"), "while-down", { n: 1 }), message(id("phoenix"), "while-down", { n: 2 })];
        for (const m of buffered) t.publish(m);
        t.publish(message(id("phoenix"), "one-too-many"));
        expect((await failed)[1].message).toMatch(/buffer is full/);
      } finally {
        await rabbitmqctl("start_app");
      }
      await reconnected;
      await inbox.count(2);
      const after = message(id("phoenix"), "after-restart");
      t.publish(after);
      await inbox.count(3);
      expect(inbox.messages.map((m) => m.action.name)).toEqual(["while-down", "while-down", "after-restart"]);
      const queues = (await listBroker("list_queues", "name", "exclusive")).filter(([n]) => n?.startsWith(id("phoenix")));
      expect(queues.sort()).toEqual([[id("phoenix"), "true"], [`${id("phoenix")}-broadcast`, "true"]]);
    },
    120_000,
  );
});
