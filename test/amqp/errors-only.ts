/**
 * Plain sends whose value nobody would see are marked `meta.answer:
 * "errors"`, and an agentspace receiver then publishes no `[response]` for
 * them: an `[error]` still comes back. Senders that await or handle values,
 * and peers that know nothing of the key, see what they always did.
 */
import { readFileSync } from "node:fs";
import { connect, type Channel, type ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQPSpace, Agent, type Message } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { Recorder } from "../helpers/recorder.js";

const probe = await probeBroker();

/** Sees every message on the exchange, in the order the broker routed them. */
class Spy {
  readonly seen: Message[] = [];
  #waiters: Array<() => void> = [];

  private constructor(
    private connection: ChannelModel,
    readonly channel: Channel,
  ) {}

  static async open(exchange: string): Promise<Spy> {
    const connection = await connect({ hostname: probe.options.hostname, port: probe.options.port });
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, "topic", { durable: true, autoDelete: false });
    const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, exchange, "#");
    const spy = new Spy(connection, channel);
    await channel.consume(queue, (delivery) => {
      if (!delivery) return;
      spy.seen.push(JSON.parse(delivery.content.toString("utf8")) as Message);
      for (const wake of spy.#waiters.splice(0)) wake();
    }, { noAck: true });
    return spy;
  }

  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  answersTo(id: string): Message[] {
    return this.seen.filter((message) => message.meta.parent_id === id);
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}

/** Sends and never looks at values: errors only, gathered. */
class FireAndForget extends Agent {
  readonly errors: unknown[] = [];
  #wake: (() => void) | undefined;

  override handleActionError(error: unknown): void {
    this.errors.push(error);
    this.#wake?.();
  }

  async nextError(): Promise<unknown> {
    while (this.errors.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    return this.errors.shift();
  }
}

describe("the errors-only mark in Agency's own traffic (the recorded fixture)", () => {
  const capture = JSON.parse(readFileSync(new URL("../fixtures/agency-1.6.3-amqp-capture.json", import.meta.url), "utf8")) as {
    captured: Array<{ body_raw: string }>;
  };
  const messages = capture.captured.map((item) => JSON.parse(item.body_raw) as Message & { meta: Record<string, unknown> });

  it("shows Agency sending a message with a meta key of its own beside id, and answering with id and parent_id only", () => {
    const extra = messages.filter((message) => Object.keys(message.meta).some((key) => key !== "id" && key !== "parent_id"));
    expect(extra).toHaveLength(1);
    expect(extra[0]!.meta).toMatchObject({ note: "extra meta keys are allowed" });
    for (const answer of messages.filter((message) => message.action.name.startsWith("["))) {
      expect(Object.keys(answer.meta).sort()).toEqual(["id", "parent_id"]);
    }
  });
});

describeWithBroker("AMQPSpace: sends whose value nobody sees are answered only when they fail", probe, () => {
  const exchange = uniqueExchange("agentspace-errors-only");
  const suffix = exchange.slice(-6);
  const [calcId, senderId, recorderId] = [`calc-${suffix}`, `fire-${suffix}`, `rec-${suffix}`];
  let space: AMQPSpace;
  let sender: FireAndForget;
  let recorder: Recorder;
  let spy: Spy;

  beforeAll(async () => {
    spy = await Spy.open(exchange);
    space = new AMQPSpace({ exchange });
    await space.add(Calculator, calcId);
    sender = await space.addForeground(FireAndForget, senderId);
    recorder = await space.addForeground(Recorder, recorderId);
  });

  afterAll(async () => {
    await space?.destroy();
    await spy?.close();
  });

  /**
   * Resolves once the spy saw the answer to a request sent after everything
   * before it: calc answers in order on one channel, so any answer to an
   * earlier message would have reached the spy first.
   */
  async function drained(): Promise<void> {
    const answersToRecorder = () => spy.seen.filter((message) => message.to === recorderId && message.action.name === "[response]").length;
    const before = answersToRecorder();
    await expect(recorder.request({ to: calcId, action: { name: "add", args: { a: 1, b: 1 } } })).resolves.toBe(2);
    await spy.until(() => answersToRecorder() > before);
  }

  it("marks a plain send of a sender that neither awaits nor handles values, and publishes no [response] for it", async () => {
    const id = sender.send({ to: calcId, action: { name: "accumulate", args: { n: 5 } } });
    await drained();
    const sent = spy.seen.find((message) => message.meta.id === id);
    expect(sent?.meta).toEqual({ id, answer: "errors" });
    expect(spy.answersTo(id)).toEqual([]);
    // The action ran all the same.
    await expect(recorder.request({ to: calcId, action: { name: "state" } })).resolves.toMatchObject({ total: 5 });
  });

  it("still answers such a send with [error] when it fails, to the sender's handleActionError", async () => {
    const id = sender.send({ to: calcId, action: { name: "fail", args: { message: "no luck" } } });
    await expect(sender.nextError()).resolves.toMatchObject({ message: expect.stringContaining("no luck") });
    await drained();
    expect(spy.answersTo(id).map((answer) => answer.action.name)).toEqual(["[error]"]);
  });

  it("leaves requests and the sends of a value handler unmarked, and answers them", async () => {
    await expect(sender.request({ to: calcId, action: { name: "add", args: { a: 2, b: 3 } } })).resolves.toBe(5);
    const id = recorder.send({ to: calcId, action: { name: "add", args: { a: 4, b: 4 } } });
    await drained();
    expect(spy.seen.find((message) => message.meta.id === id)?.meta).toEqual({ id });
    expect(spy.answersTo(id).map((answer) => answer.action.name)).toEqual(["[response]"]);
  });

  it("answers a foreign peer's message that carries a meta key it does not know, and honours the mark from anyone", async () => {
    const peerId = `py-${suffix}`;
    await spy.channel.assertQueue(peerId, { exclusive: true, autoDelete: true });
    await spy.channel.bindQueue(peerId, exchange, peerId);
    const publish = (meta: Record<string, unknown>) =>
      spy.channel.publish(exchange, calcId, Buffer.from(JSON.stringify({ meta, from: peerId, to: calcId, action: { name: "add", args: { a: 1, b: 2 } } })), {
        contentType: "text/plain",
        contentEncoding: "utf-8",
        deliveryMode: 2,
      });
    publish({ id: "foreign-noted", note: "a key agentspace does not know" });
    publish({ id: "foreign-marked", answer: "errors" });
    publish({ id: "foreign-plain" });
    await spy.until(() => spy.answersTo("foreign-plain").length > 0);
    expect(spy.answersTo("foreign-noted").map((answer) => answer.action)).toEqual([{ name: "[response]", args: { value: 3 } }]);
    expect(spy.answersTo("foreign-marked")).toEqual([]);
  });
});
