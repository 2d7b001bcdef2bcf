import { connect, type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  AMQPSpace,
  ActionNotFoundError,
  AmqpConnectionError,
  PermissionDeniedError,
  RemoteActionError,
  type Message,
} from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { describeWithBroker, listBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { Recorder } from "../helpers/recorder.js";

const probe = await probeBroker();

/**
 * A peer that knows only the wire-layout table: plain amqplib, its own
 * exclusive queue bound with its id, JSON bodies as text/plain. It answers
 * requests the way Python Agency's agents do.
 */
class ForeignPeer {
  readonly received: Array<{ message: Message; properties: ConsumeMessage["properties"] }> = [];
  #waiters: Array<() => void> = [];

  private constructor(
    readonly id: string,
    readonly exchange: string,
    private connection: ChannelModel,
    private channel: Channel,
  ) {}

  static async open(id: string, exchange: string): Promise<ForeignPeer> {
    const connection = await connect({ hostname: probe.options.hostname, port: probe.options.port });
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, "topic", { durable: true, autoDelete: false });
    await channel.assertQueue(id, { exclusive: true, durable: false, autoDelete: true });
    await channel.bindQueue(id, exchange, id);
    const peer = new ForeignPeer(id, exchange, connection, channel);
    await channel.consume(id, (delivery) => delivery && peer.#take(delivery), { noAck: true });
    return peer;
  }

  publish(message: object, routingKey: string): void {
    this.channel.publish(this.exchange, routingKey, Buffer.from(JSON.stringify(message)), {
      contentType: "text/plain",
      contentEncoding: "utf-8",
      deliveryMode: 2,
    });
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  #take(delivery: ConsumeMessage): void {
    const message = JSON.parse(delivery.content.toString("utf8")) as Message;
    this.received.push({ message, properties: delivery.properties });
    if (!message.action.name.startsWith("[")) this.#answer(message);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  // Python Agency's answers: `[response]` with the value, `[error]` with "<PythonName>: <text>".
  #answer(request: Message): void {
    const errors: Record<string, string> = {
      missing: `AttributeError: "missing" not found on "${this.id}"`,
      secret: `PermissionError: "${this.id}.secret" not permitted`,
      fail: "ValueError: boom",
    };
    const error = errors[request.action.name];
    const action = error
      ? { name: "[error]", args: { error } }
      : { name: "[response]", args: { value: (request.action.args?.a as number) * 10 } };
    this.publish({ meta: { id: `py-${request.meta.id}`, parent_id: request.meta.id }, from: this.id, to: request.from, action }, request.from);
  }
}

describeWithBroker("AMQPSpace on the wire, with a peer that is not agentspace", probe, () => {
  const exchange = uniqueExchange("agentspace-wire");
  const suffix = exchange.slice(-6);
  const [calcId, meId, foreignId] = [`calc-${suffix}`, `me-${suffix}`, `py-${suffix}`];
  let space: AMQPSpace;
  let me: Recorder;
  let foreign: ForeignPeer;

  beforeAll(async () => {
    space = new AMQPSpace({ exchange });
    await space.add(Calculator, calcId);
    me = await space.addForeground(Recorder, meId);
    foreign = await ForeignPeer.open(foreignId, exchange);
  });

  afterAll(async () => {
    await foreign?.close();
    await space?.destroy();
  });

  it("answers a foreign client's request with [response], in Agency's message shape and properties", async () => {
    foreign.publish({ meta: { id: "q1" }, from: foreignId, to: calcId, action: { name: "add", args: { a: 1, b: 2 } } }, calcId);
    await foreign.until(() => foreign.received.some(({ message }) => message.meta.parent_id === "q1"));
    const { message, properties } = foreign.received.find(({ message }) => message.meta.parent_id === "q1")!;
    expect(message).toEqual({
      meta: { id: message.meta.id, parent_id: "q1" },
      from: calcId,
      to: foreignId,
      action: { name: "[response]", args: { value: 3 } },
    });
    expect(properties).toMatchObject({ contentType: "text/plain", contentEncoding: "utf-8", deliveryMode: 2 });
  });

  it("runs a foreign request that carries no args, as Agency sends for argument-less actions", async () => {
    foreign.publish({ meta: { id: "q2" }, from: foreignId, to: calcId, action: { name: "nothing" } }, calcId);
    await foreign.until(() => foreign.received.some(({ message }) => message.meta.parent_id === "q2"));
    expect(foreign.received.find(({ message }) => message.meta.parent_id === "q2")!.message.action).toEqual({
      name: "[response]",
      args: { value: null },
    });
  });

  it("gets a foreign responder's value, and maps its Python errors onto typed errors", async () => {
    await expect(me.request({ to: foreignId, action: { name: "times-ten", args: { a: 4 } } })).resolves.toBe(40);
    await expect(me.request({ to: foreignId, action: { name: "missing" } })).rejects.toBeInstanceOf(ActionNotFoundError);
    await expect(me.request({ to: foreignId, action: { name: "secret" } })).rejects.toBeInstanceOf(PermissionDeniedError);
    const failure = me.request({ to: foreignId, action: { name: "fail" } });
    await expect(failure).rejects.toBeInstanceOf(RemoteActionError);
    await expect(failure).rejects.toMatchObject({ remoteName: "ValueError", remoteMessage: "boom" });
  });

  it("publishes what it sends with optional fields left out, never null", async () => {
    me.send({ to: foreignId, action: { name: "times-ten", args: { a: 1 } } });
    await foreign.until(() => foreign.received.some(({ message }) => message.from === meId && message.action.args?.a === 1));
    const { message } = foreign.received.find(({ message }) => message.from === meId && message.action.args?.a === 1)!;
    expect(Object.keys(message.meta)).toEqual(["id"]);
    me.send({ to: foreignId, action: { name: "argless" } });
    await foreign.until(() => foreign.received.some(({ message }) => message.action.name === "argless"));
    expect(foreign.received.find(({ message }) => message.action.name === "argless")!.message.action).toEqual({ name: "argless" });
  });

  it("declares exactly the topology of the wire layout", async () => {
    const exchanges = await listBroker("list_exchanges", "name", "type", "durable", "auto_delete", "arguments");
    expect(exchanges.find(([name]) => name === exchange)).toEqual([exchange, "topic", "true", "false", "[]"]);
    const bindings = await listBroker("list_bindings", "source_name", "destination_name", "routing_key");
    const ours = bindings.filter(([source, queue]) => source === exchange && queue!.startsWith(calcId));
    expect(ours.sort()).toEqual([
      [exchange, calcId, calcId],
      [exchange, `${calcId}-broadcast`, "__broadcast__"],
    ]);
    const queues = await listBroker("list_queues", "name", "durable", "exclusive", "auto_delete");
    expect(queues.filter(([name]) => name!.startsWith(calcId)).sort()).toEqual([
      [calcId, "false", "true", "true"],
      [`${calcId}-broadcast`, "false", "true", "true"],
    ]);
  });

  it("names host and port when the broker cannot be reached", async () => {
    const nowhere = new AMQPSpace({ amqp: { hostname: "127.0.0.1", port: 1 }, exchange });
    const added = nowhere.add(Calculator, `never-${suffix}`);
    await expect(added).rejects.toBeInstanceOf(AmqpConnectionError);
    await expect(added).rejects.toThrow("127.0.0.1:1");
    await nowhere.destroy();
  });
});
