import { EventEmitter } from "eventemitter3";
import { wantsErrorsOnly } from "../answer-mark.js";
import { BROADCAST, isAnswer, type Message } from "../message.js";
import type { BrokerTransport, BrokerTransportEvents } from "../spaces/broker-transport.js";
import { AmqpConnection, DEFAULT_BACKOFF, type Backoff } from "./connection.js";
import { Consumers, type Deliver } from "./consumers.js";
import { DEFAULT_EXCHANGE, resolveAmqpOptions, type AmqpOptions } from "./options.js";
import { AmqpConnectionError } from "./errors.js";
import { HandledActions, markResent } from "./handled.js";
import { DEFAULT_PUBLISHER_LIMITS, Publisher } from "./publisher.js";
import { UnansweredActions } from "./unanswered.js";
import { declareExchange } from "./topology.js";

export type { Deliver } from "./consumers.js";

/** Knobs with sensible defaults; none changes what goes on the wire. */
export interface TransportTuning {
  /** Unacked messages the broker may hand each consumer at once (default 256). */
  prefetch?: number;
  /** Published messages awaiting confirmation at once (default 1,000). */
  maxInFlight?: number;
  /** Messages held while disconnected or while the confirm window is full (default 100,000). */
  maxBuffered?: number;
  /**
   * The broker's max_message_size in bytes (default 134,217,728, RabbitMQ's
   * default): a larger message is refused at the sender with MessageValidationError.
   */
  maxMessageBytes?: number;
  /** Delay between reconnection attempts (default 100 ms, then 200, then every 250 ms). */
  reconnect?: Partial<Backoff>;
  /** How long `close()` waits for outstanding confirms (default 5 s). */
  closeTimeoutMs?: number;
  /**
   * An action published this long ago at most, still unanswered when the
   * connection comes back, is published again (default 60 s, the default
   * request timeout; AMQPSpace passes its own `requestTimeoutMs`).
   */
  resendWithinMs?: number;
}

/** The events of every broker transport: see BrokerTransportEvents. */
type TransportEvents = BrokerTransportEvents;

const DEFAULT_PREFETCH = 256;
const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
const DEFAULT_RESEND_WITHIN_MS = 60_000;
/**
 * For this long after a reconnect, a message the broker returns (no queue
 * bound for its \`to\` yet: its receiver's process is still declaring its
 * queues again) is published again every RETURNED_RETRY_MS, not refused.
 */
const RECONNECT_GRACE_MS = 10_000;
const RETURNED_RETRY_MS = 50;

/**
 * Moves agentspace messages over one RabbitMQ topic exchange, in the wire
 * layout of Python Agency: one connection, one confirm channel for publishing,
 * two exclusive queues per attached agent id. Survives broker restarts.
 */
export class AmqpTransport extends EventEmitter<TransportEvents> implements BrokerTransport {
  readonly exchange: string;
  readonly #connection: AmqpConnection;
  readonly #publisher: Publisher;
  readonly #consumers: Consumers;
  readonly #closeTimeoutMs: number;
  #recovery: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;
  readonly #resendWithinMs: number;
  /** Connections lost so far: the number of the one in use (or being made), from 0. */
  #lostConnections = 0;
  /** When the connection last came back (0: never lost). */
  #reconnectedAt = 0;
  readonly #unanswered = new UnansweredActions();
  readonly #handled = new HandledActions();

  private constructor(connection: AmqpConnection, exchange: string, tuning: TransportTuning) {
    super();
    this.exchange = exchange;
    this.#connection = connection;
    this.#closeTimeoutMs = tuning.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    this.#resendWithinMs = tuning.resendWithinMs ?? DEFAULT_RESEND_WITHIN_MS;
    this.#publisher = new Publisher(exchange, {
      maxInFlight: tuning.maxInFlight ?? DEFAULT_PUBLISHER_LIMITS.maxInFlight,
      maxBuffered: tuning.maxBuffered ?? DEFAULT_PUBLISHER_LIMITS.maxBuffered,
      maxMessageBytes: tuning.maxMessageBytes ?? DEFAULT_PUBLISHER_LIMITS.maxMessageBytes,
    });
    this.#consumers = new Consumers(connection, exchange, tuning.prefetch ?? DEFAULT_PREFETCH);
    this.#forwardEvents();
  }

  /**
   * Connects and declares the exchange. Rejects with AmqpConnectionError,
   * naming host and port, when the broker cannot be reached.
   */
  static async open(
    options: Partial<AmqpOptions> = {},
    exchange: string = DEFAULT_EXCHANGE,
    tuning: TransportTuning = {},
  ): Promise<AmqpTransport> {
    const backoff = { ...DEFAULT_BACKOFF, ...tuning.reconnect };
    const connection = await AmqpConnection.open(resolveAmqpOptions(options), backoff);
    const transport = new AmqpTransport(connection, exchange, tuning);
    try {
      await transport.#setUp();
    } catch (error) {
      await transport.close();
      throw error;
    }
    return transport;
  }

  /** Where messages go, for error texts. */
  get where(): string {
    return `exchange "${this.exchange}"`;
  }

  connectionError(message: string, options?: ErrorOptions): Error {
    return new AmqpConnectionError(message, options);
  }

  get connected(): boolean {
    return this.#connection.connected;
  }

  /** Ids attached through this transport. */
  get ids(): string[] {
    return this.#consumers.ids;
  }

  /**
   * Declares and consumes `id`'s queues; `deliver` gets each message and a
   * `done` that acks it. Rejects with DuplicateAgentError when `id` is
   * attached here already or held by another connection on the broker.
   */
  attach(id: string, deliver: Deliver): Promise<void> {
    return this.#consumers.attach(id, (message, done, redelivered) => {
      if (isAnswer(message)) {
        this.#unanswered.answered(message);
      } else if (message.to === id && !redelivered) {
        // A copy its sender published again after a reconnect: run once; answered, its answer goes again.
        const seen = this.#handled.arrived(message);
        if (seen !== "new") {
          done();
          if (seen !== "working") this.#publisher.publish(seen);
          return;
        }
      }
      deliver(message, done, redelivered);
    });
  }

  /** Stops consuming `id` and deletes its queues. */
  detach(id: string): Promise<void> {
    return this.#consumers.detach(id);
  }

  /** Hands back to the broker every message of `id` whose `done` was not called: they are delivered again. */
  redeliver(id: string): void {
    this.#consumers.redeliver(id);
  }

  /**
   * Publishes without waiting. Problems come back as events: `unroutable`
   * (no such id on the exchange) and `publishFailed`.
   */
  publish(message: Message): void {
    if (isAnswer(message)) this.#handled.answered(message);
    else if (message.to !== BROADCAST && !wantsErrorsOnly(message)) this.#unanswered.sent(message, this.#lostConnections);
    this.#publisher.publish(message);
  }

  /** Waits (bounded) for outstanding confirms, then closes the connection; resolves when all is released. */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    await this.#publisher.close(this.#closeTimeoutMs);
    this.#consumers.close();
    await this.#connection.close();
  }

  async #setUp(): Promise<void> {
    await declareExchange(this.#connection, this.exchange);
    await this.#consumers.start();
    this.#publisher.useChannel(this.#connection.publishChannel);
  }

  // Recoveries run one after another: a second loss can come while one is under way.
  #recover(): void {
    this.#recovery = this.#recovery.then(async () => {
      if (this.#closing || !this.#connection.connected) return;
      try {
        await this.#setUp();
      } catch (error) {
        // Lost again meanwhile: the next "connected" retries.
        if (this.#connection.connected) this.emit("error", new Error("recovering after a reconnect failed", { cause: error }));
        return;
      }
      if (!this.#connection.connected) return;
      this.#reconnectedAt = Date.now();
      // What went out on a lost connection and was not answered may have died with the broker's queues.
      for (const message of this.#unanswered.again(this.#lostConnections, this.#resendWithinMs)) this.#publisher.publish(markResent(message));
      this.emit("connected");
    });
  }

  /** A message the broker returned: right after a reconnect its receiver may not have declared its queues again yet. */
  #returned(message: Message): void {
    if (this.#closing || message.to === BROADCAST || Date.now() - this.#reconnectedAt > RECONNECT_GRACE_MS) {
      this.#unanswered.forget(message);
      return void this.emit("unroutable", message);
    }
    setTimeout(() => this.#publisher.publish(message), RETURNED_RETRY_MS).unref();
  }

  #forwardEvents(): void {
    this.#connection.on("connected", () => this.#recover());
    this.#connection.on("disconnected", (error) => {
      this.#lostConnections++;
      this.#publisher.useChannel(undefined);
      this.emit("disconnected", error);
    });
    this.#publisher.on("unroutable", (message) => this.#returned(message));
    this.#publisher.on("publishFailed", (message, error) => this.emit("publishFailed", message, error));
    this.#consumers.on("lost", (id, error) => this.emit("attachmentLost", id, error));
    this.#consumers.on("error", (error) => this.emit("error", error));
  }
}
