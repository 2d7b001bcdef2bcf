import type { ConfirmChannel, Message as AmqpMessage } from "amqplib";
import { EventEmitter } from "eventemitter3";
import type { Message } from "../message.js";
import { AmqpPublishError } from "./errors.js";
import { PUBLISH_OPTIONS, encodeMessage, routingKeyFor } from "./wire.js";

/** Bounds on what the publisher holds in memory. */
export interface PublisherLimits {
  /** Messages sent and not yet confirmed by the broker: the confirm window. */
  maxInFlight: number;
  /** Messages waiting for a channel (disconnected) or for room in the window. */
  maxBuffered: number;
}

export const DEFAULT_PUBLISHER_LIMITS: PublisherLimits = { maxInFlight: 1_000, maxBuffered: 100_000 };

interface PublisherEvents {
  /** The broker returned the message: no queue is bound for its `to`. */
  unroutable: (message: Message) => void;
  /** The message was not (and will not be) handed to the broker. */
  publishFailed: (message: Message, error: Error) => void;
}

// amqplib's text for a confirm the broker refused; any other confirm error
// means the channel went away before the broker answered.
const NACKED = "message nacked";

/**
 * Publishes messages on a confirm channel without waiting for each confirm:
 * up to `maxInFlight` are unconfirmed at once. Messages whose confirm was lost
 * with the channel, and messages published while there is no channel, wait
 * (bounded) and go out, in order, on the next channel: at least once.
 */
export class Publisher extends EventEmitter<PublisherEvents> {
  readonly #exchange: string;
  readonly #limits: PublisherLimits;
  #channel: ConfirmChannel | undefined;
  #inFlight = 0;
  // A FIFO as an array and a read index: shift() would copy on every message.
  #waiting: (Message | undefined)[] = [];
  #head = 0;
  #lost: Message[] = [];
  #closed = false;
  #onIdle: (() => void) | undefined;

  constructor(exchange: string, limits: PublisherLimits = DEFAULT_PUBLISHER_LIMITS) {
    super();
    this.#exchange = exchange;
    this.#limits = limits;
  }

  get buffered(): number {
    return this.#waiting.length - this.#head + this.#lost.length;
  }

  publish(message: Message): void {
    if (this.#closed) return this.#fail(message, "the AMQP transport is closed");
    if (this.buffered === 0 && this.#channel && this.#inFlight < this.#limits.maxInFlight && this.#send(message)) return;
    if (this.buffered >= this.#limits.maxBuffered) {
      return this.#fail(message, `the AMQP publish buffer is full (${this.#limits.maxBuffered} messages waiting for the broker)`);
    }
    this.#waiting.push(message);
  }

  /** Publishes on `channel` from now on (undefined: hold messages until there is one). */
  useChannel(channel: ConfirmChannel | undefined): void {
    if (channel === this.#channel) return this.#flush();
    this.#channel = channel;
    if (!channel) return;
    channel.on("return", (returned: AmqpMessage) => this.#returned(returned));
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
      this.#fail(this.#waiting[i] as Message, "the AMQP transport closed before the broker took the message");
    }
    this.#waiting = [];
    this.#head = 0;
  }

  /** Sends one message; false when the channel turned out to be closed (the message was not taken). */
  #send(message: Message): boolean {
    const channel = this.#channel as ConfirmChannel;
    try {
      channel.publish(this.#exchange, routingKeyFor(message.to), encodeMessage(message), PUBLISH_OPTIONS, (error) =>
        this.#confirmed(message, error),
      );
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

  #confirmed(message: Message, error: unknown): void {
    this.#inFlight--;
    if (error instanceof Error && error.message === NACKED) {
      this.emit("publishFailed", message, new AmqpPublishError(`the broker refused message ${message.meta.id} to "${message.to}"`));
    } else if (error) {
      this.#lost.push(message);
    }
    this.#flush();
  }

  #flush(): void {
    const max = this.#limits.maxInFlight;
    while (this.#channel && this.#head < this.#waiting.length && this.#inFlight < max) {
      if (!this.#send(this.#waiting[this.#head] as Message)) break;
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
