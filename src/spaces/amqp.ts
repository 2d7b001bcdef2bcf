import { AmqpTransport, DEFAULT_EXCHANGE, type AmqpOptions, type TransportTuning } from "../amqp/index.js";
import { MultiprocessSpace, type MultiprocessSpaceOptions } from "./multiprocess.js";

export interface AMQPSpaceOptions extends MultiprocessSpaceOptions {
  /** The broker; unset fields come from AMQP_HOST, AMQP_PORT, AMQP_USERNAME, AMQP_PASSWORD, AMQP_VHOST, else localhost:5672 guest/guest "/". */
  amqp?: Partial<AmqpOptions>;
  /** Processes naming the same exchange form one space (default "agency"). */
  exchange?: string;
  /** Prefetch, confirm window and buffers; none changes the wire. */
  tuning?: TransportTuning;
}

/**
 * Agents in worker threads, exactly as in MultiprocessSpace, with RabbitMQ
 * as the router: processes and hosts that name the same exchange form one
 * space, in the wire layout Python Agency uses. One connection per space.
 */
export class AMQPSpace extends MultiprocessSpace {
  protected override readonly carriesJson = true;
  #transport: Promise<AmqpTransport>;

  constructor(options: AMQPSpaceOptions = {}) {
    super(options);
    // An action unanswered at a reconnect is published again while its request may still be waiting.
    const tuning = { resendWithinMs: this.options.requestTimeoutMs, ...options.tuning };
    this.#transport = AmqpTransport.open(options.amqp, options.exchange ?? DEFAULT_EXCHANGE, tuning);
    this.routeThrough(this.#transport);
  }

  /** Resolves once connected; rejects, naming host and port, when the broker cannot be reached. */
  async connected(): Promise<void> {
    await this.#transport;
  }

  protected override async release(): Promise<void> {
    const transport = await this.#transport.catch(() => undefined);
    await transport?.close();
  }
}
