import { EventEmitter } from "eventemitter3";
// Imported when a connection opens, not with the module: every worker thread
// loads the whole library (its agents' bundles import it), and node-redis
// alone costs a worker ~70 ms and ~14 MB at start.
import type { ErrorReply as ErrorReplyClass } from "redis";
import { RedisConnectionError } from "./errors.js";
import { describeRedis, sentinelProblem, type RedisConnectionOptions, type ResolvedTuning } from "./options.js";

/** A reply as node-redis gives it over RESP2: strings, numbers, null and arrays of them. */
export type Reply = string | number | null | Reply[];

/** What the transport uses of a node-redis client: raw commands, over RESP2 (plain arrays, whatever the server speaks). */
export interface RedisCommands {
  sendCommand(args: ReadonlyArray<string>): Promise<Reply>;
  readonly isReady: boolean;
}

interface ConnectionEvents {
  /** Both clients are back after a loss. */
  connected: () => void;
  /** A client lost its connection; node-redis is reconnecting with backoff. Said once per loss. */
  disconnected: (error: Error) => void;
}

/** What a connection needs of a node-redis client, or of a Sentinel-following one (createSentinel). */
interface Client {
  connect(): Promise<unknown>;
  destroy(): unknown;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: "error" | "ready", listener: (error: Error) => void): unknown;
  readonly commands: RedisCommands;
}

/** `client` as a connection uses it, whichever kind it is. */
function wrap(client: Omit<Client, "commands" | "on"> & { on(event: string, listener: (error: Error) => void): unknown }, commands: RedisCommands): Client {
  return {
    connect: () => client.connect(),
    destroy: () => client.destroy(),
    get isOpen() {
      return client.isOpen;
    },
    get isReady() {
      return client.isReady;
    },
    on: (event, listener) => client.on(event, listener),
    commands,
  };
}

/** node-redis's reply error class, once a connection has loaded it (no reply error exists before). */
let ErrorReply: typeof ErrorReplyClass | undefined;

/**
 * One process's two connections to Redis, whatever the number of agents: a
 * command client (publishing, acks, leases, pipelined by node-redis) and a
 * reader that sits in one blocking XREADGROUP for every mailbox of the
 * process. Both reconnect with backoff; the first connection does not: a
 * server that cannot be reached at start is an error naming host and port.
 */
export class RedisConnection extends EventEmitter<ConnectionEvents> {
  readonly server: string;
  readonly commands: RedisCommands;
  readonly reader: RedisCommands;
  readonly #clients: Client[];
  #lost = false;
  #closed = false;

  private constructor(server: string, commands: Client, reader: Client) {
    super();
    this.server = server;
    this.#clients = [commands, reader];
    this.commands = commands.commands;
    this.reader = reader.commands;
  }

  static async open(options: RedisConnectionOptions & { url: string }, tuning: ResolvedTuning): Promise<RedisConnection> {
    const problem = options.sentinel === undefined ? undefined : sentinelProblem(options.sentinel);
    if (problem) throw new TypeError(problem);
    const server = describeRedis(options);
    const redis = await import("redis");
    ErrorReply = redis.ErrorReply;
    let opened = false;
    const { initialMs, maxMs } = tuning.reconnect;
    const socket = {
      ...options.socket,
      // Before the first connection, give up at once (the caller is told); after it, never.
      reconnectStrategy: (retries: number, cause: Error) =>
        opened ? Math.min(maxMs, initialMs * 2 ** Math.min(retries, 20)) : new RedisConnectionError(`cannot reach Redis at ${server}: ${cause.message}`, { cause }),
    } as RedisConnectionOptions["socket"];
    // No offline queue: a command given while the connection is down fails at once, so
    // the outbox alone decides what goes again, and in which order, once it is back.
    const make = (name: string): Client => {
      const { sentinel, ...server } = options;
      const clientName = options.name ?? `agentspace-${name}`;
      if (!sentinel) {
        const client = redis.createClient({ ...server, socket, RESP: 2, disableOfflineQueue: true, name: clientName });
        return wrap(client, client as unknown as RedisCommands);
      }
      const { url: _, socket: serverSocket, ...auth } = server;
      // One client on the primary (the reader's blocking read and its CLIENT ID must share it), followed through failovers.
      const follower = redis.createSentinel({
        name: sentinel.name,
        sentinelRootNodes: sentinel.sentinels.map(({ host, port }) => ({ host, port })),
        nodeClientOptions: { ...auth, socket: { ...serverSocket, reconnectStrategy: socket?.reconnectStrategy }, RESP: 2, disableOfflineQueue: true, name: clientName } as never,
        sentinelClientOptions: { socket: { reconnectStrategy: socket?.reconnectStrategy } } as never,
        RESP: 2,
        masterPoolSize: 1,
        reserveClient: true,
        passthroughClientErrorEvents: true,
      });
      const commands = { sendCommand: (args: ReadonlyArray<string>) => follower.sendCommand<Reply>(false, [...args]), get isReady() { return follower.isReady; } };
      return wrap(follower, commands as RedisCommands);
    };
    const commands = make("commands");
    const reader = make("reader");
    // Listeners are added once and never taken off: node-redis hands out a
    // wrapper of its client, and an emitter whose last listener goes gets a
    // fresh listener table on the wrapper, which the client never sees.
    let connection: RedisConnection | undefined;
    for (const client of [commands, reader]) {
      client.on("error", (error: Error) => {
        if (connection) connection.#failed(error);
      });
      client.on("ready", () => {
        if (connection) connection.#ready();
      });
    }
    try {
      await Promise.all([commands.connect(), reader.connect()]);
    } catch (error) {
      for (const client of [commands, reader]) if (client.isOpen) client.destroy();
      if (error instanceof RedisConnectionError) throw error;
      const cause = error as Error;
      throw new RedisConnectionError(`cannot reach Redis at ${server}: ${cause.message}`, { cause });
    }
    opened = true;
    connection = new RedisConnection(server, commands, reader);
    return connection;
  }

  get connected(): boolean {
    return !this.#lost && this.#clients.every((client) => client.isReady);
  }

  /** Resolves once both clients are ready (at once when they are). */
  async ready(): Promise<void> {
    while (!this.#closed && !this.connected) await new Promise<void>((resolve) => this.once("connected", resolve));
  }

  /** Ends both connections at once: what Redis holds stays there. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.emit("connected"); // wakes whoever waits in ready()
    for (const client of this.#clients) if (client.isOpen) client.destroy();
  }

  get closed(): boolean {
    return this.#closed;
  }

  #failed(error: Error): void {
    if (this.#closed || this.#lost) return;
    this.#lost = true;
    this.emit("disconnected", error);
  }

  #ready(): void {
    if (this.#closed || !this.#lost || !this.#clients.every((client) => client.isReady)) return;
    this.#lost = false;
    this.emit("connected");
  }
}

/** Whether `error` is Redis refusing a command (a reply), as against the connection failing under it. */
export function isReplyError(error: unknown): boolean {
  return ErrorReply !== undefined && error instanceof ErrorReply;
}

/**
 * Whether `error` is a refusal that passes by itself: a server still loading
 * its data after a restart, busy in a script, failing over. The command is
 * tried again, not reported as failed.
 */
export function isPassingRefusal(error: unknown): boolean {
  return ErrorReply !== undefined && error instanceof ErrorReply && /^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN|READONLY)\b/.test(error.message);
}
