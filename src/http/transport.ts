import { EventEmitter } from "eventemitter3";
import { DuplicateAgentError, MailboxFullError, MessageValidationError, PermissionDeniedError } from "../errors.js";
import { encodeEntityId, encodeWire, messageFromJson, type EntityId, type WireMessage } from "../exchange/wire.js";
import { BROADCAST, type Message } from "../message.js";
import type { BrokerTransport, BrokerTransportEvents, Deliver } from "../spaces/broker-transport.js";
import { Bridge, type ArgNames } from "./bridge.js";
import { ExchangeConnectionError } from "./errors.js";
import { ExchangeClient, UnreachableError, type Reply } from "./exchange-client.js";
import { backoff, BatchOutbox, PerMessageOutbox, type Outbox, type OutboxOptions, type Outgoing } from "./outbox.js";
import { entityOf } from "./ids.js";

export interface HttpTransportOptions {
  url: string;
  token?: string;
  /** PEM certificate(s) to trust for an https:// exchange (one with a self-signed or private certificate). */
  ca?: string;
  /** The agent class of id `id`, for the hierarchy Academy's discover reads (undefined: a foreground agent). */
  classOf: (id: string) => string | undefined;
  argNames: ArgNames;
  /** How long one listen lasts before it is renewed, in seconds (at most the exchange's limit, 60 on Academy's). */
  listenTimeoutS?: number;
  /** How long a send keeps trying an unreachable exchange before it fails (default 10 s). */
  retryForMs?: number;
}

/** Every agentspace agent's hierarchy ends so: `discover("agentspace.Agent")` finds them all (broadcasts use it). */
const AGENT_BASES = ["agentspace.Agent", "academy.agent.Agent"];
/** How often repeated drops of malformed messages are reported, at most. */
const REPORT_EVERY_MS = 5_000;

interface Attached {
  entity: EntityId;
  deliver: Deliver;
  stop: AbortController;
  /** Delivered and not yet done, for `redeliver`. */
  held: Set<Message>;
  lastEventId: string | undefined;
}

/**
 * BrokerTransport on Academy's HTTP exchange (ours or Academy's own): one
 * mailbox and one SSE listen per agent; sends go through an Outbox (batched
 * on agentspace's exchange), each receiver's in order. The exchange is
 * untrusted: every event is parsed at the boundary, and a carried
 * agentspace message must name the sender the exchange vouches for.
 */
export class HttpTransport extends EventEmitter<BrokerTransportEvents> implements BrokerTransport {
  readonly #client: ExchangeClient;
  readonly #bridge: Bridge;
  readonly #options: HttpTransportOptions;
  readonly #attached = new Map<string, Attached>();
  /** Sends each receiver's messages in the order sent; set at open, by what the exchange can take. */
  #outbox: Outbox;
  /** Broadcasts waiting for discover: later sends go behind them. */
  #order: Promise<void> | undefined;
  #broadcasting = 0;
  /** Our own exchange answers GET /mailbox/listeners, which tells whether an id is held elsewhere. */
  #countsListeners = false;
  #reachable = true;
  #closed = false;
  #drops = { count: 0, latest: "", reportedAt: 0 };

  private constructor(client: ExchangeClient, options: HttpTransportOptions) {
    super();
    this.#client = client;
    this.#options = options;
    this.#bridge = new Bridge(options.argNames);
    this.#outbox = new PerMessageOutbox(this.#outboxOptions());
  }

  #outboxOptions(): OutboxOptions {
    return {
      client: this.#client,
      retryForMs: this.#options.retryForMs ?? 10_000,
      settle: (item, outcome) => this.#settle(item, outcome),
      reached: () => this.#reached(),
      unreached: (error) => this.#unreached(error),
      closed: () => this.#closed,
    };
  }

  /**
   * Reaches the exchange and checks the token. Rejects with
   * ExchangeConnectionError when it cannot be reached, PermissionDeniedError
   * when it refuses the token (or its absence).
   */
  static async open(options: HttpTransportOptions): Promise<HttpTransport> {
    const client = new ExchangeClient(options.url, options.token, options.ca);
    const transport = new HttpTransport(client, options);
    try {
      const probe = encodeEntityId({ uid: "00000000-0000-4000-8000-000000000000", name: null, role: "user" });
      const status = await transport.#call("GET", "/mailbox", { mailbox: probe });
      if (status.status === 401) {
        throw new PermissionDeniedError(
          `the exchange at ${options.url} refused ${options.token === undefined ? "a space without a token" : "this space's token"} (${status.status} ${status.text.trim()}): ` +
            `pass new HttpSpace({ url, token }) with a token from the exchange's --auth file`,
        );
      }
      if (status.status !== 200) throw new ExchangeConnectionError(`${options.url} did not answer as an Academy exchange (GET /mailbox: ${status.status} ${status.text.trim().slice(0, 200)})`);
      transport.#countsListeners = (await transport.#call("GET", "/mailbox/listeners", { mailbox: probe })).status === 200;
      // agentspace's exchange takes many messages in one request; Academy's, one each.
      if ((await transport.#call("PUT", "/messages", { messages: [] })).status === 200) transport.#outbox = new BatchOutbox(transport.#outboxOptions());
    } catch (error) {
      client.close();
      throw error;
    }
    return transport;
  }

  get where(): string {
    return `the exchange at ${this.#options.url}`;
  }

  get ids(): string[] {
    return [...this.#attached.keys()];
  }

  connectionError(message: string, options?: ErrorOptions): Error {
    return new ExchangeConnectionError(message, options);
  }

  async #call(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body: unknown): Promise<Reply> {
    try {
      return await this.#client.call(method, path, body);
    } catch (error) {
      if (error instanceof UnreachableError) throw new ExchangeConnectionError(`cannot reach the exchange at ${this.#options.url}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  async attach(id: string, deliver: Deliver): Promise<void> {
    if (this.#attached.has(id)) throw new DuplicateAgentError(`agent "${id}" is attached here already`);
    const entity = entityOf(id);
    const mailbox = encodeEntityId(entity);
    if (this.#countsListeners) {
      const held = await this.#call("GET", "/mailbox/listeners", { mailbox });
      if (held.status === 200 && (JSON.parse(held.text) as { listeners?: unknown }).listeners !== 0) {
        throw new DuplicateAgentError(`agent "${id}" is held by another process on ${this.where}`);
      }
      if (held.status === 403) throw new PermissionDeniedError(`agent id "${id}" belongs to another client of ${this.where}: choose another id`);
    }
    const created = await this.#call("POST", "/mailbox", { mailbox, agent: this.#hierarchyOf(id) });
    this.#refuseAttach(id, created);
    const status = await this.#call("GET", "/mailbox", { mailbox });
    this.#refuseAttach(id, status);
    const state = (JSON.parse(status.text) as { status?: unknown }).status;
    if (state === "TERMINATED") {
      throw new DuplicateAgentError(`${this.where} keeps the id "${id}" of an ended mailbox and will not open it again (Academy's own server does so): use another id`);
    }
    const attached: Attached = { entity, deliver, stop: new AbortController(), held: new Set(), lastEventId: undefined };
    this.#attached.set(id, attached);
    void this.#listenLoop(id, attached);
  }

  /** The class hierarchy Academy's discover reads: the agent's class first (a foreground agent has none of its own). */
  #hierarchyOf(id: string): string {
    return [this.#options.classOf(id) ?? "agentspace.ForegroundAgent", ...AGENT_BASES].join(",");
  }

  #refuseAttach(id: string, reply: Reply): void {
    if (reply.status === 200) return;
    if (reply.status === 401 || reply.status === 403) throw new PermissionDeniedError(`${this.where} refused agent id "${id}" (${reply.status} ${reply.text.trim()}): it belongs to another client, or the token is wrong`);
    throw new ExchangeConnectionError(`${this.where} refused the mailbox of "${id}" (${reply.status} ${reply.text.trim()})`);
  }

  async #listenLoop(id: string, attached: Attached): Promise<void> {
    const mailbox = encodeEntityId(attached.entity);
    const timeout = this.#options.listenTimeoutS ?? 30;
    let failures = 0;
    while (!attached.stop.signal.aborted) {
      try {
        const reply = await this.#client.listen({ mailbox, timeout }, attached.lastEventId, attached.stop.signal, (eventId, data) => {
          if (eventId !== undefined) attached.lastEventId = eventId;
          this.#arrive(id, attached, data);
        });
        if (attached.stop.signal.aborted) return;
        this.#reached();
        failures = 0;
        if (reply.status === 404) {
          // The exchange restarted without keeping its mailboxes: this agent's is opened again.
          await this.#call("POST", "/mailbox", { mailbox, agent: this.#hierarchyOf(id) });
        } else if (reply.status === 419) {
          this.#attached.delete(id);
          this.emit("attachmentLost", id, new ExchangeConnectionError(`its mailbox on ${this.where} was closed by someone else`));
          return;
        } else if (reply.status !== 200) {
          throw new ExchangeConnectionError(`${this.where} refused the listen of "${id}" (${reply.status} ${reply.text.trim()})`);
        }
      } catch (error) {
        if (attached.stop.signal.aborted) return;
        this.#unreached(error as Error);
        await backoff(failures++);
      }
    }
  }

  #arrive(id: string, attached: Attached, data: string): void {
    let wire: WireMessage;
    try {
      wire = messageFromJson(data);
    } catch (error) {
      return this.#dropped(`a malformed message for "${id}": ${(error as Error).message}`);
    }
    if (wire.header.dest.uid !== attached.entity.uid) return this.#dropped(`a message for ${wire.header.dest.uid} in the mailbox of "${id}"`);
    const arrival = this.#bridge.arrive(wire, id);
    if ("drop" in arrival) return arrival.drop === undefined ? undefined : this.#dropped(`${arrival.drop} (for "${id}")`);
    if ("reply" in arrival) return this.#outbox.send({ wire: arrival.reply, message: undefined });
    const message = arrival.deliver;
    attached.held.add(message);
    attached.deliver(message, () => attached.held.delete(message), false);
  }

  #dropped(reason: string): void {
    const drops = this.#drops;
    drops.count++;
    drops.latest = reason;
    const now = Date.now();
    if (now - drops.reportedAt < REPORT_EVERY_MS) return;
    drops.reportedAt = now;
    this.emit("error", new MessageValidationError(`dropped ${drops.count} message(s) from ${this.where} that could not be taken; the latest: ${reason}`));
    drops.count = 0;
  }

  async detach(id: string): Promise<void> {
    const attached = this.#attached.get(id);
    if (attached === undefined) return;
    this.#attached.delete(id);
    attached.stop.abort();
    await this.#call("DELETE", "/mailbox", { mailbox: encodeEntityId(attached.entity) }).catch(() => undefined);
  }

  redeliver(id: string): void {
    const attached = this.#attached.get(id);
    if (attached === undefined) return;
    for (const message of [...attached.held]) attached.deliver(message, () => attached.held.delete(message), true);
  }

  publish(message: Message): void {
    if (this.#closed) return void this.emit("publishFailed", message, new ExchangeConnectionError(`the space's connection to ${this.where} is closed`));
    if (message.to === BROADCAST) {
      this.#broadcasting++;
      this.#order = (this.#order ?? Promise.resolve()).then(() => this.#broadcast(message)).finally(() => {
        if (--this.#broadcasting === 0) this.#order = undefined;
      });
      return;
    }
    if (this.#order !== undefined) {
      this.#order = this.#order.then(() => this.#outbox.send({ wire: this.#bridge.depart(message), message }));
      return;
    }
    this.#outbox.send({ wire: this.#bridge.depart(message), message });
  }

  async #broadcast(message: Message): Promise<void> {
    let uids: string[];
    try {
      const reply = await this.#call("GET", "/discover", { agent: AGENT_BASES[0], allow_subclasses: true });
      if (reply.status !== 200) throw new ExchangeConnectionError(`discover on ${this.where} failed (${reply.status} ${reply.text.trim()})`);
      const found = (JSON.parse(reply.text) as { agent_ids?: unknown }).agent_ids;
      uids = typeof found === "string" && found.length > 0 ? found.split(",") : [];
    } catch (error) {
      return void this.emit("error", new ExchangeConnectionError(`a broadcast from "${message.from}" reached no one: ${(error as Error).message}`, { cause: error }));
    }
    for (const uid of uids) {
      this.#outbox.send({ wire: this.#bridge.depart(message, uid), message: undefined });
    }
  }

  /** What became of a message sent: the exchange's reply to it, or the error that kept it from the exchange. */
  #settle({ message }: Outgoing, outcome: Reply | Error): void {
    if (message === undefined) return;
    if (outcome instanceof Error) {
      return void this.emit("publishFailed", message, new ExchangeConnectionError(`could not reach ${this.where} to send: ${outcome.message}`, { cause: outcome }));
    }
    if (outcome.status === 200) return;
    const text = outcome.text.trim();
    switch (outcome.status) {
      case 404:
      case 419:
        return void this.emit("unroutable", message);
      case 413:
        return void this.emit("publishFailed", message, new MessageValidationError(`${this.where} refused the message as too large (${text}): send less, or raise the exchange's --max-message-bytes`));
      case 429:
        return void this.emit("publishFailed", message, new MailboxFullError(`${this.where}: ${text}`));
      case 401:
      case 403:
        return void this.emit("publishFailed", message, new PermissionDeniedError(`${this.where} refused the message (${outcome.status} ${text})`));
      default:
        return void this.emit("publishFailed", message, new ExchangeConnectionError(`${this.where} refused the message (${outcome.status} ${text})`));
    }
  }

  #unreached(error: Error): void {
    if (!this.#reachable || this.#closed) return;
    this.#reachable = false;
    this.emit("disconnected", error);
  }

  #reached(): void {
    if (this.#reachable) return;
    this.#reachable = true;
    this.emit("connected");
  }

  /** Waits (bounded) for the sends under way, stops every listen, and closes the connections. */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.#closed) return;
    const sends = (async () => {
      await this.#order;
      await this.#outbox.drained();
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sends, new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.#closed = true;
    for (const attached of this.#attached.values()) attached.stop.abort();
    this.#attached.clear();
    this.#client.close();
  }
}
