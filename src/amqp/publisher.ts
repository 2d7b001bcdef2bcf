import type { ConfirmChannel, Message as AmqpMessage } from "amqplib";
import { EventEmitter } from "eventemitter3";
import { MessageValidationError } from "../errors.js";
import { jsonValueProblem } from "../json-value.js";
import type { Message } from "../message.js";
import { AmqpPublishError } from "./errors.js";
import { markResent } from "./handled.js";
import { PUBLISH_OPTIONS, RABBITMQ_MAX_MESSAGE_SIZE, brokerSizeLimit, encodeMessage, routingKeyFor } from "./wire.js";

/** Bounds on what the publisher holds in memory, and on what it hands the broker. */
export interface PublisherLimits {
  /** Messages sent and not yet confirmed by the broker: the confirm window. */
  maxInFlight: number;
  /** Messages waiting for a channel (disconnected) or for room in the window. */
  maxBuffered: number;
  /**
   * The broker's max_message_size, in bytes of encoded body (default: RabbitMQ's
   * default, 128 MiB). A larger message is refused here: the broker would
   * close the publish channel over it, and with it the connection.
   */
  maxMessageBytes?: number;
}

export const DEFAULT_PUBLISHER_LIMITS: Readonly<Required<PublisherLimits>> = Object.freeze({
  maxInFlight: 1_000,
  maxBuffered: 100_000,
  maxMessageBytes: RABBITMQ_MAX_MESSAGE_SIZE,
});

interface PublisherEvents {
  /** The broker returned the message: no queue is bound for its `to`. */
  unroutable: (message: Message) => void;
  /** The message was not (and will not be) handed to the broker. */
  publishFailed: (message: Message, error: Error) => void;
}

// amqplib's text for a confirm the broker refused; any other confirm error
// means the channel went away before the broker answered.
const NACKED = "message nacked";

/** A message and its body, encoded once when it is taken: a resend sends the same bytes. */
interface Outgoing {
  readonly message: Message;
  readonly body: Buffer;
}

/**
 * Publishes messages on a confirm channel without waiting for each confirm:
 * up to `maxInFlight` are unconfirmed at once. Messages whose confirm was lost
 * with the channel, and messages published while there is no channel, wait
 * (bounded) and go out, in order, on the next channel: at least once.
 *
 * What the broker would refuse is refused here instead, before it costs a
 * channel: a body JSON cannot carry exactly, and a body over the broker's
 * size limit. What the broker refused anyway is never sent again.
 */
export class Publisher extends EventEmitter<PublisherEvents> {
  readonly #exchange: string;
  readonly #limits: PublisherLimits;
  /** `maxMessageBytes`, lowered to the broker's own limit once a refusal has told us that. */
  #maxBytes: number;
  #channel: ConfirmChannel | undefined;
  #inFlight = 0;
  // A FIFO as an array and a read index: shift() would copy on every message.
  #waiting: (Outgoing | undefined)[] = [];
  #head = 0;
  #lost: Outgoing[] = [];
  #closed = false;
  #onIdle: (() => void) | undefined;

  constructor(exchange: string, limits: PublisherLimits = DEFAULT_PUBLISHER_LIMITS) {
    super();
    this.#exchange = exchange;
    this.#limits = limits;
    this.#maxBytes = limits.maxMessageBytes ?? DEFAULT_PUBLISHER_LIMITS.maxMessageBytes;
    if (!Number.isSafeInteger(this.#maxBytes) || this.#maxBytes < 1) {
      throw new RangeError(`maxMessageBytes must be a whole number of bytes, at least 1 (got ${this.#maxBytes})`);
    }
  }

  get buffered(): number {
    return this.#waiting.length - this.#head + this.#lost.length;
  }

  publish(message: Message): void {
    if (this.#closed) return this.#fail(message, "the AMQP transport is closed");
    const outgoing = this.#encode(message);
    if (!outgoing) return;
    if (this.buffered === 0 && this.#channel && this.#inFlight < this.#limits.maxInFlight && this.#send(outgoing)) return;
    if (this.buffered >= this.#limits.maxBuffered) {
      return this.#fail(message, `the AMQP publish buffer is full (${this.#limits.maxBuffered} messages waiting for the broker)`);
    }
    this.#waiting.push(outgoing);
  }

  /** Publishes on `channel` from now on (undefined: hold messages until there is one). */
  useChannel(channel: ConfirmChannel | undefined): void {
    if (channel === this.#channel) return this.#flush();
    this.#channel = channel;
    if (!channel) return;
    channel.on("return", (returned: AmqpMessage) => this.#returned(returned));
    // Comes before "close", and so before the confirms of what was in flight fail.
    channel.on("error", (error: Error) => this.#channelError(error));
    channel.on("close", () => this.#channel === channel && this.#channelGone());
    this.#requeueLost();
    this.#flush();
  }

  /**
   * Stops taking messages; waits (up to `timeoutMs`) for those already taken
   * to be confirmed, then reports every one still unsent as failed.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    if (this.#channel && (this.#inFlight > 0 || this.buffered > 0)) await this.#idle(timeoutMs);
    this.#channel = undefined;
    this.#requeueLost();
    for (let i = this.#head; i < this.#waiting.length; i++) {
      this.#fail((this.#waiting[i] as Outgoing).message, "the AMQP transport closed before the broker took the message");
    }
    this.#waiting = [];
    this.#head = 0;
  }

  /**
   * The message as the broker gets it, or undefined when it must not go out:
   * then it has been reported as failed. Checked before encoding because
   * JSON.stringify would change (NaN, a Map, a hole) or refuse (BigInt, a
   * cycle) what it cannot carry.
   */
  #encode(message: Message): Outgoing | undefined {
    const problem = jsonValueProblem(message, "");
    if (problem !== undefined) {
      this.emit("publishFailed", message, new MessageValidationError(`message ${message.meta.id} to "${message.to}" was not sent: ${problem}`));
      return undefined;
    }
    let body: Buffer;
    try {
      body = encodeMessage(message);
    } catch (error) {
      // A string too long for JSON.stringify to build, say.
      const why = `message ${message.meta.id} to "${message.to}" cannot be encoded: ${reason(error)}`;
      this.emit("publishFailed", message, new MessageValidationError(why, { cause: error }));
      return undefined;
    }
    const outgoing = { message, body };
    return this.#fits(outgoing) ? outgoing : undefined;
  }

  /** Whether the broker takes a body this large; if not, the message is reported as failed. */
  #fits({ message, body }: Outgoing): boolean {
    if (body.length <= this.#maxBytes) return true;
    const why = `message ${message.meta.id} to "${message.to}" is ${body.length} bytes, over the broker's max_message_size of ${this.#maxBytes}`;
    this.emit("publishFailed", message, new MessageValidationError(why));
    return false;
  }

  /** Sends one message; false when the channel turned out to be closed (the message was not taken). */
  #send(outgoing: Outgoing): boolean {
    const channel = this.#channel as ConfirmChannel;
    const { message, body } = outgoing;
    // Taken before the broker told us its limit: it would refuse this one too.
    if (!this.#fits(outgoing)) return true;
    try {
      channel.publish(this.#exchange, routingKeyFor(message.to), body, PUBLISH_OPTIONS, (error) => this.#confirmed(outgoing, error));
    } catch (error) {
      // amqplib throws at once on a channel that is closing or closed: keep the message for the next one.
      // By name: amqplib is loaded only when a space connects, never in an agent's thread.
      if ((error as Error).name === "IllegalOperationError") {
        this.#channelGone();
        return false;
      }
      this.emit("publishFailed", message, new AmqpPublishError(`message ${message.meta.id} to "${message.to}" cannot be sent: ${reason(error)}`, { cause: error }));
      return true; // taken, and answered for
    }
    this.#inFlight++;
    return true;
  }

  #confirmed(outgoing: Outgoing, error: unknown): void {
    this.#inFlight--;
    if (error instanceof Error && error.message === NACKED) {
      const { message } = outgoing;
      this.emit("publishFailed", message, new AmqpPublishError(`the broker refused message ${message.meta.id} to "${message.to}"`));
    } else if (error && this.#fits(outgoing)) {
      // Lost with the channel: sent again on the next one, marked as a copy (it may have
      // reached its queue), so a receiver that took it runs it once. Not so what the
      // broker closed the channel over: it would close every next one too.
      const copy = markResent(outgoing.message);
      this.#lost.push({ message: copy, body: encodeMessage(copy) });
    }
    this.#flush();
  }

  /** The broker closed the channel because a message was too large: from now on, its limit is ours. */
  #channelError(error: Error): void {
    const limit = brokerSizeLimit(error);
    if (limit !== undefined && limit < this.#maxBytes) this.#maxBytes = limit;
  }

  #flush(): void {
    const max = this.#limits.maxInFlight;
    while (this.#channel && this.#head < this.#waiting.length && this.#inFlight < max) {
      if (!this.#send(this.#waiting[this.#head] as Outgoing)) break;
      this.#waiting[this.#head++] = undefined;
    }
    this.#compact();
    this.#checkIdle();
  }

  #channelGone(): void {
    this.#channel = undefined;
    this.#checkIdle();
  }

  // Idle: nothing left to confirm, and nothing more can go out.
  #checkIdle(): void {
    if (this.#onIdle && this.#inFlight === 0 && (this.buffered === 0 || !this.#channel)) this.#onIdle();
  }

  #compact(): void {
    if (this.#head === this.#waiting.length) {
      this.#waiting = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
  }

  // Messages whose confirm was lost with the old channel were sent before any still waiting.
  #requeueLost(): void {
    if (this.#lost.length === 0) return;
    this.#waiting = [...this.#lost, ...this.#waiting.slice(this.#head)];
    this.#head = 0;
    this.#lost = [];
  }

  #returned(returned: AmqpMessage): void {
    let message: Message;
    try {
      message = JSON.parse(returned.content.toString("utf8")) as Message;
    } catch {
      return; // we encoded it ourselves: cannot happen
    }
    this.emit("unroutable", message);
  }

  #idle(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#onIdle = () => {
        this.#onIdle = undefined;
        done();
      };
    });
  }

  #fail(message: Message, why: string): void {
    this.emit("publishFailed", message, new AmqpPublishError(`message ${message.meta.id} to "${message.to}" was not sent: ${why}`));
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
