import type { Channel, ConsumeMessage } from "amqplib";
import { EventEmitter } from "eventemitter3";
import { AgentNotFoundError, DuplicateAgentError, MessageValidationError } from "../errors.js";
import { BROADCAST, agentIdProblem, type Message } from "../message.js";
import type { AmqpConnection } from "./connection.js";
import { AmqpConnectionError } from "./errors.js";
import { declareAgentQueues, deleteAgentQueues } from "./topology.js";
import { decodeMessage, queuesOf } from "./wire.js";

/**
 * Hands a message to its agent. The broker counts the message as unacked
 * (against the prefetch bound) until `done()` is called, and `redeliver(id)`
 * hands back those not done: the broker delivers them again, `redelivered`
 * true. (The queues are exclusive and auto-delete, as in Agency's layout: when
 * the consumer or its connection goes, the queue goes with what it holds.)
 */
export type Deliver = (message: Message, done: () => void, redelivered: boolean) => void;

interface Attachment {
  readonly id: string;
  readonly deliver: Deliver;
  consumerTags: string[];
  /** Set once detached or lost: late deliveries and `done()`s are ignored. */
  released: boolean;
  /** Delivered on the current channel and not yet done. */
  readonly pending: Set<ConsumeMessage>;
}

interface ConsumerEvents {
  /** `id` is no longer attached: its queues could not be consumed again, or the broker cancelled them. */
  lost: (id: string, error: Error) => void;
  /** A malformed message was dropped, or a `deliver` callback threw. */
  error: (error: Error) => void;
}

/**
 * The consuming side: one channel shared by every attached id, each id's two
 * queues consumed with manual acks and a per-consumer prefetch bound.
 */
export class Consumers extends EventEmitter<ConsumerEvents> {
  readonly #connection: AmqpConnection;
  readonly #exchange: string;
  readonly #prefetch: number;
  readonly #attached = new Map<string, Attachment>();
  readonly #attaching = new Set<string>();
  #channel: Channel | undefined;
  #closed = false;

  constructor(connection: AmqpConnection, exchange: string, prefetch: number) {
    super();
    this.#connection = connection;
    this.#exchange = exchange;
    this.#prefetch = prefetch;
  }

  get ids(): string[] {
    return [...this.#attached.keys()];
  }

  /** Opens a consuming channel and consumes every attached id again (after a reconnect, say). */
  async start(): Promise<void> {
    const channel = await this.#connection.openChannel();
    await channel.prefetch(this.#prefetch);
    channel.on("close", () => this.#channelClosed(channel));
    this.#channel = channel;
    for (const attachment of this.#attached.values()) await this.#restore(channel, attachment);
  }

  async attach(id: string, deliver: Deliver): Promise<void> {
    const problem = agentIdProblem(id);
    if (problem) throw new TypeError(problem);
    if (this.#closed) throw new AmqpConnectionError("the AMQP transport is closed");
    if (this.#attached.has(id) || this.#attaching.has(id)) {
      throw new DuplicateAgentError(`agent id "${id}" is already attached to this AMQP transport`);
    }
    this.#attaching.add(id);
    try {
      const attachment: Attachment = { id, deliver, consumerTags: [], released: false, pending: new Set() };
      await declareAgentQueues(this.#connection, this.#exchange, id);
      await this.#consume(this.#requireChannel(), attachment).catch(async (error: unknown) => {
        await deleteAgentQueues(this.#connection, id).catch(() => {});
        throw error;
      });
      this.#attached.set(id, attachment);
    } catch (error) {
      if (this.#connection.connected || error instanceof AmqpConnectionError) throw error;
      throw new AmqpConnectionError(`lost the broker connection while attaching "${id}"`, { cause: error });
    } finally {
      this.#attaching.delete(id);
    }
  }

  /** Stops consuming `id` and deletes its queues; messages not yet done go with them. */
  async detach(id: string): Promise<void> {
    const attachment = this.#attached.get(id);
    if (!attachment) return;
    this.#attached.delete(id);
    await this.#release(attachment);
  }

  /** Gives back every message of `id` not yet done: the broker delivers them again. */
  redeliver(id: string): void {
    const attachment = this.#attached.get(id);
    const channel = this.#channel;
    if (!attachment || !channel) return;
    for (const raw of attachment.pending) nack(channel, raw);
    attachment.pending.clear();
  }

  /** Forgets every attachment; the queues go when the connection closes. */
  close(): void {
    this.#closed = true;
    for (const attachment of this.#attached.values()) {
      attachment.released = true;
      attachment.pending.clear();
    }
    this.#attached.clear();
  }

  async #consume(channel: Channel, attachment: Attachment): Promise<void> {
    attachment.consumerTags = [];
    for (const queue of queuesOf(attachment.id)) {
      const onMessage = (raw: ConsumeMessage | null) => this.#delivered(channel, attachment, raw);
      const { consumerTag } = await channel.consume(queue, onMessage, { noAck: false });
      attachment.consumerTags.push(consumerTag);
    }
  }

  async #restore(channel: Channel, attachment: Attachment): Promise<void> {
    try {
      await declareAgentQueues(this.#connection, this.#exchange, attachment.id);
      await this.#consume(channel, attachment);
      // Detached while we were bringing it back: undo.
      if (attachment.released) await this.#release(attachment);
    } catch (error) {
      // Connection lost again: the next start() retries. Otherwise the id is gone (e.g. held elsewhere now).
      if (!this.#connection.connected || channel !== this.#channel) return;
      this.#lose(attachment, asError(error));
    }
  }

  #delivered(channel: Channel, attachment: Attachment, raw: ConsumeMessage | null): void {
    if (attachment.released) return; // its queue is being deleted, and the message with it
    if (raw === null) {
      const queues = queuesOf(attachment.id).join('", "');
      return this.#lose(attachment, new AgentNotFoundError(`the broker cancelled consuming "${queues}" (queue deleted?)`));
    }
    let message: Message;
    try {
      message = decodeMessage(raw.content);
      checkAddresses(message);
    } catch (error) {
      // Acked, so it cannot come back; a RangeError (nesting too deep to parse) is one more refusal.
      ack(channel, raw);
      return this.#malformed(raw, error);
    }
    attachment.pending.add(raw);
    try {
      attachment.deliver(message, () => this.#done(channel, attachment, raw), raw.fields.redelivered);
    } catch (error) {
      this.#done(channel, attachment, raw);
      this.emit("error", new Error(`delivering message ${message.meta.id} to "${attachment.id}" threw`, { cause: error }));
    }
  }

  // Acks at most once, and only on the channel that delivered (a tag means nothing on another).
  #done(channel: Channel, attachment: Attachment, raw: ConsumeMessage): void {
    if (attachment.pending.delete(raw)) ack(channel, raw);
  }

  #malformed(raw: ConsumeMessage, error: unknown): void {
    const why = error instanceof Error ? error.message : String(error);
    const where = `routing key "${raw.fields.routingKey}" on exchange "${raw.fields.exchange}"`;
    this.emit("error", new MessageValidationError(`dropped a malformed message (${where}): ${why}`, { cause: error }));
  }

  #lose(attachment: Attachment, error: Error): void {
    if (this.#attached.get(attachment.id) !== attachment) return;
    this.#attached.delete(attachment.id);
    this.emit("lost", attachment.id, error);
    // Half an attachment would swallow messages: messages to it must come back unroutable.
    this.#release(attachment).catch(() => {});
  }

  async #release(attachment: Attachment): Promise<void> {
    attachment.released = true;
    attachment.pending.clear();
    const channel = this.#channel;
    if (!channel || !this.#connection.connected) return; // exclusive queues died with the connection
    for (const tag of attachment.consumerTags) await channel.cancel(tag).catch(() => {});
    await deleteAgentQueues(this.#connection, attachment.id);
  }

  // The queues are auto-delete: with their consumers gone the broker drops
  // them, and what they held. If the connection is still up, declare and
  // consume again at once, so the ids stay reachable.
  #channelClosed(channel: Channel): void {
    if (channel !== this.#channel) return;
    this.#channel = undefined;
    for (const attachment of this.#attached.values()) attachment.pending.clear();
    // Deferred: on a connection loss the channels close before the connection says so.
    setImmediate(() => {
      if (this.#closed || this.#channel || !this.#connection.connected) return;
      this.emit("error", new Error("the broker closed the consuming channel; consuming again (messages its queues held are lost)"));
      this.start().catch((error: unknown) => this.emit("error", asError(error)));
    });
  }

  #requireChannel(): Channel {
    if (!this.#channel) throw this.#connection.notConnectedError();
    return this.#channel;
  }
}

/**
 * The wire is anyone's: `from` is where the answer goes, so it must name an
 * agent (`"*"` would turn the answer into a broadcast), and `to` must name an
 * agent or everyone. Throws MessageValidationError saying which.
 */
function checkAddresses(message: Message): void {
  const badFrom = agentIdProblem(message.from);
  if (badFrom) throw new MessageValidationError(`"from": ${badFrom}`);
  const badTo = message.to === BROADCAST ? undefined : agentIdProblem(message.to);
  if (badTo) throw new MessageValidationError(`"to": ${badTo}`);
}

function ack(channel: Channel, raw: ConsumeMessage): void {
  try {
    channel.ack(raw);
  } catch {
    // The channel is gone: the broker puts the message back, nothing to do.
  }
}

function nack(channel: Channel, raw: ConsumeMessage): void {
  try {
    channel.nack(raw, false, true);
  } catch {
    // The channel is gone: the broker has the message back already.
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
