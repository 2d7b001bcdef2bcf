import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Server, Socket } from "node:net";
import { MailboxFullError, MessageValidationError } from "../../errors.js";
import { jsonValueProblem } from "../../json-value.js";
import { agentIdProblem, type Message } from "../../message.js";
import { isReplyError, type RedisCommands } from "../connection.js";
import { RedisPublishError } from "../errors.js";
import type { Keys } from "../keys.js";
import type { Mailbox } from "../mailbox.js";
import type { DirectOptions } from "../options.js";
import type { PutSettled } from "../outbox.js";
import { Directory } from "./directory.js";
import type { HelloFrame, Refusal } from "./frames.js";
import { DirectInbox } from "./inbox.js";
import { Link } from "./link.js";
import { dial, listen } from "./sockets.js";

/** What the direct path needs of its Redis transport. */
export interface DirectSink {
  /** The agents of this process, by id. */
  readonly boxes: ReadonlyMap<string, Mailbox>;
  /** Puts `message` into its agent's Redis mailbox, in the order called. */
  toRedis(message: Message, settled: PutSettled): void;
  /** `message` will not be sent: its sender is told. */
  failed(message: Message, error: Error): void;
  error(error: Error): void;
}

export interface DirectSettings {
  options: DirectOptions & { port: number; host: string };
  commands: RedisCommands;
  keys: Keys;
  token: string;
  leaseMs: number;
  timeoutMs: number;
  maxBuffered: number;
}

/** How one destination agent is reached from here, now. */
interface Route {
  /** resolving: looked up (and its Redis backlog drained), its messages queued meanwhile. */
  state: "resolving" | "direct" | "redis";
  link?: Link;
  queue: Message[];
  /** Put into its Redis mailbox and not yet settled there. */
  inRedis: number;
  /** The newest entry this process put into its mailbox: direct sends wait until its mailbox holds nothing up to it. */
  lastEntry?: string;
  /** In state "redis": when to look it up again. */
  retryAt: number;
}

/** Destinations remembered at once, at most; past it those sent through Redis are forgotten first. */
const MAX_ROUTES = 100_000;
/** How often a route waiting for its Redis backlog to drain looks at the mailbox. */
const DRAIN_POLL_MS = 20;
/** How long messages to a destination are held back waiting for its backlog; past it they go through Redis, and it is tried again later. */
const DRAIN_WAIT_MS = 250;

/**
 * The hybrid path of a Redis transport: messages to an agent of another
 * live process go over one TCP connection per pair of processes (see
 * Link), found through the directory in Redis; otherwise, and whenever that
 * fails, into the agent's Redis mailbox as before.
 *
 * Order per destination holds across the switch: what a broken connection
 * held goes into Redis before anything newer; and a destination reached
 * through Redis goes back to direct only once its mailbox holds nothing up
 * to the last entry this process put there.
 */
export class DirectExchange {
  readonly inbox: DirectInbox;
  readonly address: string;
  readonly #settings: DirectSettings;
  readonly #sink: DirectSink;
  readonly #directory: Directory;
  readonly #server: Server;
  readonly #secret: Buffer;
  /** One connection per peer process, by its token: ours, or the one it opened to us. */
  readonly #links = new Map<string, Link>();
  readonly #accepted = new Set<Link>();
  readonly #routes = new Map<string, Route>();
  /** Peer processes a connect to failed, and until when they are not tried again. */
  readonly #unreachable = new Map<string, number>();
  #closing = false;

  private constructor(settings: DirectSettings, sink: DirectSink, server: Server, address: string, secret: Buffer) {
    this.#settings = settings;
    this.#sink = sink;
    this.#server = server;
    this.address = address;
    this.#secret = secret;
    this.inbox = new DirectInbox(sink.boxes, (error) => sink.error(error));
    this.#directory = new Directory(settings.commands, settings.keys, settings.token, settings.leaseMs);
  }

  /** Listens, and records this process's address in Redis. */
  static async open(settings: DirectSettings, sink: DirectSink): Promise<DirectExchange> {
    const secret = randomBytes(24);
    let accept: (socket: Socket) => void = (socket) => socket.destroy();
    const { server, address } = await listen(settings.options, (socket) => accept(socket));
    const exchange = new DirectExchange(settings, sink, server, address, secret);
    accept = (socket) => exchange.#accept(socket);
    try {
      await exchange.#directory.publish(address, secret.toString("hex"));
    } catch (error) {
      server.close();
      throw error;
    }
    return exchange;
  }

  /** Sends `message` (to an agent not of this process) the fastest way that keeps it safe. */
  publish(message: Message): void {
    const problem = jsonValueProblem(message, "");
    if (problem !== undefined) {
      return this.#sink.failed(message, new MessageValidationError(`message ${message.meta.id} to "${message.to}" was not sent: ${problem}`));
    }
    const route = this.#routes.get(message.to) ?? this.#newRoute(message.to);
    if (route.state === "redis" && Date.now() >= route.retryAt && !this.#closing) {
      route.state = "resolving";
      void this.#resolve(message.to, route);
    }
    if (route.state === "resolving") return void route.queue.push(message);
    if (route.state === "redis") return this.#toRedis(route, message);
    const link = route.link!;
    if (link.holding >= this.#settings.maxBuffered) {
      return this.#sink.failed(message, new RedisPublishError(`message ${message.meta.id} to "${message.to}" was not sent: ${this.#settings.maxBuffered} messages wait for its process already`));
    }
    link.send(message);
  }

  /** Keeps this process's address alive in the directory, with its leases. */
  renew(): Promise<void> {
    return this.#directory.renew();
  }

  /** Stops listening, leaves the directory, and waits (up to `timeoutMs`) for peers to acknowledge what they hold; the rest goes into Redis. */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    this.#server.close();
    await this.#directory.remove().catch(() => {});
    const links = [...new Set([...this.#links.values(), ...this.#accepted])];
    await Promise.all(links.map((link) => link.settled(Math.min(timeoutMs, this.#settings.timeoutMs))));
    for (const link of links) link.close();
  }

  #newRoute(to: string): Route {
    if (this.#routes.size >= MAX_ROUTES) {
      for (const [id, route] of this.#routes) if (route.state === "redis" && route.inRedis === 0) this.#routes.delete(id);
    }
    const route: Route = { state: "resolving", queue: [], inRedis: 0, retryAt: 0 };
    this.#routes.set(to, route);
    if (this.#closing) this.#giveUp(route);
    else void this.#resolve(to, route);
    return route;
  }

  /** Looks `to` up; goes direct when its process takes connections and its Redis backlog from here is drained, else through Redis for a while. */
  async #resolve(to: string, route: Route): Promise<void> {
    try {
      const location = await this.#directory.locate(to);
      const endpoint = location?.endpoint;
      const blockedUntil = location ? this.#unreachable.get(location.token) ?? 0 : 0;
      if (!location || !endpoint || location.token === this.#settings.token || blockedUntil > Date.now() || this.#closing) return this.#giveUp(route);
      const link = this.#linkTo(location.token, endpoint);
      if (!link || !(await this.#drained(to, route)) || link.closed || this.#closing) return this.#giveUp(route);
      route.state = "direct";
      route.link = link;
      for (const message of route.queue.splice(0)) link.send(message);
    } catch (error) {
      // Redis away: the transport says so itself, and the outbox holds what is given up to it.
      if (isReplyError(error)) this.#sink.error(new Error(`looking up agent "${to}" for the direct path failed: ${(error as Error).message}`, { cause: error }));
      this.#giveUp(route);
    }
  }

  /** Through Redis for now (and what was queued with it, in order); looked up again after the timeout. */
  #giveUp(route: Route): void {
    route.state = "redis";
    route.link = undefined;
    route.retryAt = Date.now() + this.#settings.timeoutMs;
    for (const message of route.queue.splice(0)) this.#toRedis(route, message);
  }

  #toRedis(route: Route, message: Message): void {
    route.inRedis++;
    this.#sink.toRedis(message, (entryId) => {
      route.inRedis--;
      if (entryId !== undefined && (route.lastEntry === undefined || compareEntryIds(entryId, route.lastEntry) > 0)) route.lastEntry = entryId;
    });
  }

  /** Whether everything this process put into `to`'s mailbox has been handled (deleted), waiting up to the timeout. */
  async #drained(to: string, route: Route): Promise<boolean> {
    const deadline = Date.now() + Math.min(DRAIN_WAIT_MS, this.#settings.timeoutMs);
    const key = this.#settings.keys.mailbox(to);
    for (;;) {
      if (route.inRedis === 0) {
        if (route.lastEntry === undefined) return true;
        const left = await this.#settings.commands.sendCommand(["XRANGE", key, "-", route.lastEntry, "COUNT", "1"]);
        if (Array.isArray(left) && left.length === 0) return true;
      }
      if (Date.now() >= deadline || this.#closing) return false;
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    }
  }

  #linkTo(token: string, endpoint: { address: string; secret: string }): Link | undefined {
    const open = this.#links.get(token);
    if (open && !open.closed) return open;
    let socket: Socket;
    try {
      socket = dial(endpoint.address, this.#settings.options.tls);
    } catch {
      // Not an address: nobody can reach it.
      void this.#directory.forget(token, endpoint.address).catch(() => {});
      return undefined;
    }
    let connected = false;
    socket.once(this.#settings.options.tls ? "secureConnect" : "connect", () => (connected = true));
    const hello: HelloFrame = { t: "hello", token: this.#settings.token, secret: endpoint.secret };
    const link = new Link(socket, { timeoutMs: this.#settings.timeoutMs, hello });
    this.#links.set(token, link);
    this.#wire(link, token, (held) => {
      // A peer that held messages when its connection broke (it stopped answering, or died) is not tried again for a while.
      if (connected && held === 0) return;
      this.#unreachable.set(token, Date.now() + this.#settings.timeoutMs);
      // A stale address costs this one failed connect: it leaves the directory (a live process writes it again at its next renewal).
      if (!connected) void this.#directory.forget(token, endpoint.address).catch(() => {});
    });
    return link;
  }

  #accept(socket: Socket): void {
    if (this.#closing) return void socket.destroy();
    const link = new Link(socket, {
      timeoutMs: this.#settings.timeoutMs,
      admit: (hello) => (this.#admits(hello) ? hello.token : undefined),
    });
    this.#accepted.add(link);
    link.once("admitted", (token) => {
      const open = this.#links.get(token);
      // The peer's own connection serves both ways: one per pair of processes.
      if (!open || open.closed) this.#links.set(token, link);
      this.#wire(link, token, () => {});
    });
    link.once("closed", () => this.#accepted.delete(link));
  }

  #admits(hello: HelloFrame): boolean {
    const given = Buffer.from(hello.secret, "hex");
    return given.length === this.#secret.length && timingSafeEqual(given, this.#secret) && agentIdProblem(hello.token) === undefined;
  }

  #wire(link: Link, token: string, onClose: (held: number) => void): void {
    link.on("batch", (first, messages) => {
      messages.forEach((value, i) => this.inbox.take(value, token, (outcome) => link.ack(first + i, outcome)));
    });
    link.on("refused", (message, why) => this.#refused(link, message, why));
    link.on("tooLarge", (message) => this.#refused(link, message, "absent"));
    link.once("closed", (held) => {
      if (this.#links.get(token) === link) this.#links.delete(token);
      onClose(held.length);
      this.#fallBack(link, held);
    });
  }

  /** A connection is gone: its destinations go through Redis for a while, and what it held goes there first, in order. */
  #fallBack(link: Link, held: Message[]): void {
    for (const route of this.#routes.values()) if (route.link === link) this.#giveUp(route);
    for (const message of held) {
      const route = this.#routes.get(message.to) ?? this.#newRoute(message.to);
      this.#toRedis(route, message);
    }
  }

  #refused(link: Link, message: Message, why: Refusal): void {
    if (why === "full") return this.#sink.failed(message, new MailboxFullError(`the mailbox of "${message.to}" is full`));
    if (why === "invalid") return this.#sink.failed(message, new MessageValidationError(`the process of "${message.to}" refused message ${message.meta.id} as invalid`));
    // Its agent is not there (it left, or moved), or the message is too large for a frame: through Redis, which knows where it is, with every later message to it.
    const route = this.#routes.get(message.to);
    if (route?.link === link) this.#giveUp(route);
    const target = route ?? this.#newRoute(message.to);
    this.#toRedis(target, message);
    for (const later of link.takeBack(message.to)) this.#toRedis(target, later);
  }
}

/** Stream entry ids ("ms-seq") in order. */
export function compareEntryIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split("-").map(Number);
  const [bMs = 0, bSeq = 0] = b.split("-").map(Number);
  return aMs - bMs || aSeq - bSeq;
}
