import type { Channel, ChannelModel, ConfirmChannel } from "amqplib";
import { EventEmitter } from "eventemitter3";
import { AmqpConnectionError } from "./errors.js";
import { describeBroker, tlsSettings, type AmqpOptions } from "./options.js";

/** How long to wait between reconnection attempts: doubling from `initialMs` up to `maxMs`. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/**
 * Tried again every quarter second at most: a broker that restarts is back
 * within seconds, and each second waited past that is a second every request
 * in flight waits (a refused connect costs the broker next to nothing).
 */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 250 };

// A broker that drops packets (rather than refusing) must not hang `open`.
const CONNECT_TIMEOUT_MS = 10_000;
const JITTER = 0.2;

interface ConnectionEvents {
  /** Connected again after a loss, with a fresh publish channel. */
  connected: () => void;
  /** The connection is gone; reconnection attempts follow until `close()`. */
  disconnected: (error: Error) => void;
}

/**
 * The one broker connection of a space (never one per agent or per publish),
 * with its confirm channel for publishing. After having been connected it
 * reconnects with backoff whenever the broker goes away.
 */
export class AmqpConnection extends EventEmitter<ConnectionEvents> {
  readonly #options: AmqpOptions;
  readonly #backoff: Backoff;
  #model: ChannelModel | undefined;
  #publishChannel: ConfirmChannel | undefined;
  #establishing: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #closed = false;

  private constructor(options: AmqpOptions, backoff: Backoff) {
    super();
    this.#options = options;
    this.#backoff = backoff;
  }

  /** Connects once; fails fast, naming host and port, when the broker cannot be reached. */
  static async open(options: AmqpOptions, backoff: Backoff = DEFAULT_BACKOFF): Promise<AmqpConnection> {
    const connection = new AmqpConnection(options, backoff);
    try {
      await connection.#establish();
    } catch (error) {
      throw new AmqpConnectionError(`cannot connect to the AMQP broker at ${describeBroker(options)}: ${reason(error, options)}`, {
        cause: error,
      });
    }
    return connection;
  }

  get connected(): boolean {
    return this.#publishChannel !== undefined;
  }

  /** The confirm channel publishes go through; undefined while disconnected. */
  get publishChannel(): ConfirmChannel | undefined {
    return this.#publishChannel;
  }

  /** A new plain channel. Its `error` events are swallowed: the failing operation rejects with the same error. */
  async openChannel(): Promise<Channel> {
    if (!this.#model) throw this.notConnectedError();
    const channel = await this.#model.createChannel();
    channel.on("error", ignore);
    return channel;
  }

  notConnectedError(): AmqpConnectionError {
    return new AmqpConnectionError(`not connected to the AMQP broker at ${describeBroker(this.#options)} (reconnecting)`);
  }

  /** Closes the connection for good and stops reconnecting; resolves once the socket is released. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#establishing?.catch(ignore);
    const model = this.#model;
    this.#forget();
    await model?.close().catch(ignore);
  }

  #establish(): Promise<void> {
    this.#establishing = this.#connect().finally(() => (this.#establishing = undefined));
    return this.#establishing;
  }

  async #connect(): Promise<void> {
    // Loaded here, not at the top: every agent's worker imports the library, and none needs amqplib.
    const { connect } = await import("amqplib");
    const model = await connect(this.#url(), {
      noDelay: true, // without it each hop waits ~40 ms (Nagle + delayed ACK)
      timeout: CONNECT_TIMEOUT_MS,
      clientProperties: { connection_name: `agentspace pid ${process.pid}` },
      // amqplib hands its socket options to tls.connect as they are.
      ...(this.#options.useSsl ? tlsSettings(this.#options) : {}),
    });
    // Every connection error is followed by "close", which is where we act.
    model.on("error", ignore);
    let channel: ConfirmChannel;
    try {
      channel = await model.createConfirmChannel();
    } catch (error) {
      await model.close().catch(ignore);
      throw error;
    }
    if (this.#closed) {
      await model.close().catch(ignore);
      return;
    }
    this.#adopt(model, channel);
  }

  #adopt(model: ChannelModel, channel: ConfirmChannel): void {
    channel.on("error", ignore);
    // Losing the publish channel alone (e.g. a publish to a deleted exchange)
    // is handled as losing the connection: one recovery path for both.
    channel.on("close", () => setImmediate(() => this.#model === model && model.close().catch(ignore)));
    model.on("close", (error?: Error) => this.#lost(model, error));
    this.#model = model;
    this.#publishChannel = channel;
  }

  #lost(model: ChannelModel, error: Error | undefined): void {
    if (this.#model !== model) return;
    this.#forget();
    if (this.#closed) return;
    this.emit("disconnected", error ?? new AmqpConnectionError("the AMQP connection was closed"));
    this.#scheduleReconnect();
  }

  #forget(): void {
    this.#model = undefined;
    this.#publishChannel = undefined;
  }

  #scheduleReconnect(): void {
    const { initialMs, maxMs } = this.#backoff;
    const base = Math.min(maxMs, initialMs * 2 ** this.#attempt++);
    const delay = base * (1 - JITTER + Math.random() * 2 * JITTER);
    this.#timer = setTimeout(() => void this.#reconnect(), delay);
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#establish();
    } catch {
      if (!this.#closed) this.#scheduleReconnect();
      return;
    }
    if (this.#closed || !this.connected) return;
    this.#attempt = 0;
    this.emit("connected");
  }

  #url() {
    const o = this.#options;
    return {
      protocol: o.useSsl ? "amqps" : "amqp",
      hostname: o.hostname,
      port: o.port,
      username: o.username,
      password: o.password,
      vhost: o.virtualHost,
      heartbeat: o.heartbeat,
    };
  }
}

function reason(error: unknown, options: AmqpOptions): string {
  if (!(error instanceof Error)) return String(error);
  // Node tries each address of a name in turn and reports all the failures together.
  if (error instanceof AggregateError && error.message === "") return error.errors.map((e) => reason(e, options)).join("; ");
  const code = (error as NodeJS.ErrnoException).code;
  // OpenSSL's messages end with a line break.
  const message = error.message.trim();
  const text = code && !message.includes(code) ? `${code}: ${message}` : message;
  const tls = typeof code === "string" ? tlsTrouble(code, options) : undefined;
  return tls ? `${tls.what} (${text}); ${tls.remedy}` : text;
}

// OpenSSL's codes for a chain that leads to no CA we trust.
const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
]);

/** What a TLS failure means for whoever set up the connection; undefined when `code` is no such failure. */
function tlsTrouble(code: string, options: AmqpOptions): { what: string; remedy: string } | undefined {
  if (UNTRUSTED.has(code)) {
    const remedy = options.ca === undefined ? "give the CA that signed it as `ca`" : "the CA that signed it is not among `ca`";
    return { what: "the broker's TLS certificate was not trusted", remedy };
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    const name = options.servername ?? options.hostname;
    return {
      what: `the broker's TLS certificate did not match the host name "${name}"`,
      remedy: "connect by a name it carries, or give that name as `servername`",
    };
  }
  if (code === "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED") {
    return { what: "the broker asked for a client certificate", remedy: "give one as `cert` and `key`" };
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return { what: "the broker's TLS certificate is outside its validity period", remedy: "the broker needs a current one" };
  }
  return undefined;
}

function ignore(): void {}
