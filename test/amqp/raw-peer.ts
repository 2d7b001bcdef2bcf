import { connect, type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import type { Message } from "../../src/index.js";
import { listBroker, type BrokerProbe } from "../helpers/broker.js";

/** How long a wait for the broker's traffic may take before it fails, naming what it waited for. */
const WAIT_MS = 20_000;

/**
 * A peer that is not agentspace: plain amqplib, its own exclusive queue bound
 * with its id, bodies published exactly as given (so they may be anything at
 * all). It keeps every message that reaches its queue.
 */
export class RawPeer {
  readonly received: Message[] = [];
  #checks: Array<() => void> = [];

  private constructor(
    readonly id: string,
    readonly exchange: string,
    private readonly connection: ChannelModel,
    private readonly channel: Channel,
  ) {}

  static async open(probe: BrokerProbe, id: string, exchange: string): Promise<RawPeer> {
    const { hostname, port, username, password, virtualHost } = probe.options;
    const connection = await connect({ hostname, port, username, password, vhost: virtualHost });
    const channel = await connection.createChannel();
    await channel.assertExchange(exchange, "topic", { durable: true, autoDelete: false });
    await channel.assertQueue(id, { exclusive: true, durable: false, autoDelete: true });
    await channel.bindQueue(id, exchange, id);
    const peer = new RawPeer(id, exchange, connection, channel);
    await channel.consume(id, (delivery) => delivery && peer.#take(delivery), { noAck: true });
    return peer;
  }

  /** Publishes `body` as it is, with Agency's properties, under `routingKey`. */
  publishRaw(routingKey: string, body: Buffer | string): void {
    this.channel.publish(this.exchange, routingKey, typeof body === "string" ? Buffer.from(body, "utf8") : body, {
      contentType: "text/plain",
      contentEncoding: "utf-8",
      deliveryMode: 2,
    });
  }

  /** Publishes `message` as JSON, routed by its `to`. */
  publish(message: { to: string; [field: string]: unknown }): void {
    this.publishRaw(message.to === "*" ? "__broadcast__" : message.to, JSON.stringify(message));
  }

  /** What answered the message whose id is `parentId`. */
  answersTo(parentId: string): Message[] {
    return this.received.filter((message) => message.meta.parent_id === parentId);
  }

  /** Resolves once `condition` holds, re-checked on each arrival; rejects, saying `what`, if it never does. */
  until(condition: () => boolean, what: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`still waiting for ${what()}`)), WAIT_MS);
      const check = () => {
        if (!condition()) return void this.#checks.push(check);
        clearTimeout(timer);
        resolve();
      };
      check();
    });
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  #take(delivery: ConsumeMessage): void {
    this.received.push(JSON.parse(delivery.content.toString("utf8")) as Message);
    for (const check of this.#checks.splice(0)) check();
  }
}

/**
 * Asks the broker (rabbitmqctl) for `queue`'s ready and unacknowledged counts
 * until both are 0 (acks travel apart from answers); rejects with the last
 * counts if they never get there.
 */
export async function drained(queue: string): Promise<[number, number]> {
  const deadline = Date.now() + WAIT_MS;
  let counts: [number, number] = [-1, -1];
  while (Date.now() < deadline) {
    const rows = await listBroker("list_queues", "name", "messages_ready", "messages_unacknowledged");
    const row = rows.find(([name]) => name === queue);
    counts = [Number(row?.[1] ?? -1), Number(row?.[2] ?? -1)];
    if (counts[0] === 0 && counts[1] === 0) return counts;
  }
  throw new Error(`queue "${queue}" never drained: ${counts[0]} ready, ${counts[1]} unacknowledged`);
}
