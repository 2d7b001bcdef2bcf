import type { RedisClientOptions } from "redis";

/** Redis Sentinel: the primary of group `name`, as its sentinels say, followed through failovers. */
export interface RedisSentinelOptions {
  /** The group's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  name: string;
  /** Some of its sentinels (three is plenty): the rest, the primary and its replicas are learnt from them. */
  sentinels: ReadonlyArray<{ host: string; port: number }>;
}

/**
 * How to reach Redis, as node-redis takes it: url, TLS (`socket: { tls: true, … }` or `rediss://`),
 * username/password, database; or `sentinel`, with the rest (username, password, TLS) for the Redis servers.
 */
export type RedisConnectionOptions = Pick<RedisClientOptions, "url" | "socket" | "username" | "password" | "database" | "name" | "pingInterval"> & {
  sentinel?: RedisSentinelOptions;
};

/** Knobs with sensible defaults; none changes what is stored in Redis. */
export interface RedisTuning {
  /**
   * How long an id stays taken after its process stops renewing it (it died):
   * then another process may add the id (default 5,000 ms). Renewed every third of it.
   */
  leaseMs?: number;
  /** Entries of one mailbox taken and not yet acknowledged at once, at most (default 1,000; never more than its mailboxSize). */
  prefetch?: number;
  /** How long one blocking read waits before it looks again (default 2,000 ms): wake-ups end it sooner. */
  blockMs?: number;
  /** Delay between reconnection attempts: `initialMs` doubling up to `maxMs` (default 100 ms to 5 s). */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** How often the per-agent figures of `stats()` (waiting in Redis) are refreshed (default 1,000 ms). */
  statsIntervalMs?: number;
  /** Messages held while Redis is away, at most (default 100,000); past that, sends fail. */
  maxBuffered?: number;
  /**
   * With `direct`: how long a peer may leave what was sent to it unconfirmed
   * (or a connect hang) before its connection is given up and what it did not
   * acknowledge goes into Redis instead (default 2,000 ms).
   */
  directTimeoutMs?: number;
}

/** TLS on the direct path: the same key, certificate and CA on both ends of a connection. */
export interface DirectTlsOptions {
  key?: string | Buffer;
  cert?: string | Buffer;
  ca?: string | Buffer | Array<string | Buffer>;
  /** Refuse a peer whose certificate the CA does not vouch for (default true). */
  rejectUnauthorized?: boolean;
  /** The name the peers' certificate is issued for, when not their advertised host. */
  servername?: string;
}

/** The hybrid path: this process listens on one TCP port and peers send to its agents straight over it. */
export interface DirectOptions {
  /** The port to listen on (default 0: any free one). */
  port?: number;
  /** The interface to listen on (default "127.0.0.1"; "0.0.0.0" for other hosts). */
  host?: string;
  /** `host` or `host:port` other processes should connect to (containers, NAT); default the bound address. */
  advertise?: string;
  tls?: DirectTlsOptions;
}

export const DEFAULT_NAMESPACE = "agentspace";
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

export const tuningDefaults: Readonly<Required<Omit<RedisTuning, "reconnect">> & { reconnect: { initialMs: number; maxMs: number } }> = Object.freeze({
  leaseMs: 5_000,
  prefetch: 1_000,
  blockMs: 2_000,
  reconnect: { initialMs: 100, maxMs: 5_000 },
  statsIntervalMs: 1_000,
  maxBuffered: 100_000,
  directTimeoutMs: 2_000,
});

export type ResolvedTuning = typeof tuningDefaults;

/** What is wrong with `sentinel` (it comes from a caller, or a command line), or undefined. */
export function sentinelProblem(sentinel: unknown): string | undefined {
  const { name, sentinels } = (sentinel ?? {}) as { name?: unknown; sentinels?: unknown };
  if (typeof name !== "string" || name.length === 0) return 'sentinel needs the name its sentinels monitor it by: { name: "mymaster", sentinels: [{ host, port }] }';
  if (!Array.isArray(sentinels) || sentinels.length === 0) return "sentinel needs at least one sentinel: sentinels: [{ host, port }, …]";
  for (const node of sentinels as unknown[]) {
    const { host, port } = (node ?? {}) as { host?: unknown; port?: unknown };
    if (typeof host !== "string" || host.length === 0 || !Number.isSafeInteger(port) || (port as number) < 1 || (port as number) > 65_535) {
      return `each sentinel is { host, port } with a port from 1 to 65535, not ${JSON.stringify(node)}`;
    }
  }
  return undefined;
}

/** The options with their defaults: REDIS_URL, else redis://127.0.0.1:6379. */
export function resolveRedisOptions(options: RedisConnectionOptions = {}): RedisConnectionOptions & { url: string } {
  return { ...options, url: options.url ?? process.env.REDIS_URL ?? DEFAULT_REDIS_URL };
}

export function resolveTuning(tuning: RedisTuning = {}): ResolvedTuning {
  const resolved = {
    ...tuningDefaults,
    ...tuning,
    reconnect: { ...tuningDefaults.reconnect, ...tuning.reconnect },
  };
  for (const key of ["leaseMs", "prefetch", "blockMs", "statsIntervalMs", "maxBuffered", "directTimeoutMs"] as const) {
    const value = resolved[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${key} must be a positive whole number, not ${String(value)}`);
  }
  if (resolved.leaseMs < 300) throw new RangeError(`leaseMs must be at least 300 ms, not ${resolved.leaseMs}`);
  return resolved;
}

/** `host:port` of the server the options name, for error texts (never the password). */
export function describeRedis(options: RedisConnectionOptions & { url: string }): string {
  if (options.sentinel) {
    const { name, sentinels } = options.sentinel;
    return `the primary of "${name}" (sentinels ${sentinels.map(({ host, port }) => `${host}:${port}`).join(", ")})`;
  }
  const socket = (options.socket ?? {}) as { host?: string; port?: number; path?: string };
  if (socket.path) return socket.path;
  let host = socket.host;
  let port = socket.port;
  try {
    const url = new URL(options.url);
    host ??= url.hostname || "127.0.0.1";
    port ??= url.port ? Number(url.port) : 6379;
  } catch {
    // node-redis will say what is wrong with the url.
  }
  return `${host ?? "127.0.0.1"}:${port ?? 6379}`;
}

/**
 * Why `namespace` cannot name a space on Redis, or undefined. It becomes a
 * hash tag (`{namespace}`), so every key of a space lands in one slot.
 */
export function namespaceProblem(namespace: unknown): string | undefined {
  if (typeof namespace !== "string" || namespace.length === 0 || namespace.length > 200) {
    return "namespace must be a string of 1–200 characters";
  }
  if (/[{}\s]/.test(namespace)) return `namespace "${namespace}" must not contain "{", "}" or white space`;
  return undefined;
}

/** `direct` as given to RedisSpace, resolved: undefined when off. */
export function resolveDirect(direct: boolean | DirectOptions | undefined): (Required<Omit<DirectOptions, "advertise" | "tls">> & DirectOptions) | undefined {
  if (!direct) return undefined;
  const options = direct === true ? {} : direct;
  const port = options.port ?? 0;
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) throw new RangeError(`direct.port must be a port number (0 for any free one), not ${String(port)}`);
  if (options.advertise !== undefined && (typeof options.advertise !== "string" || options.advertise.length === 0)) {
    throw new TypeError("direct.advertise must be a host or host:port");
  }
  return { ...options, port, host: options.host ?? "127.0.0.1" };
}
