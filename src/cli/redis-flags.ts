/**
 * Where the Redis commands (`agentspace node`, `agentspace nodes`) find
 * Redis: `--redis <url>`, or `--sentinel host:port,… --sentinel-name <name>`
 * for the primary its sentinels name (followed through failovers).
 */
import type { RedisConnectionOptions } from "../redis/index.js";

type UsageError = new (message: string) => Error;

/** The flags, as parseArgs takes them. */
export const redisFlags = {
  redis: { type: "string" },
  sentinel: { type: "string" },
  "sentinel-name": { type: "string" },
} as const;

export const redisFlagsUsage = `  --redis <url>      default REDIS_URL, else redis://127.0.0.1:6379
  --sentinel <host:port,…> --sentinel-name <name>
                     Redis Sentinel instead: the primary the sentinels name, followed through failovers`;

/** The connection the flags ask for; undefined: the default. */
export function redisOf(values: { redis?: string; sentinel?: string; "sentinel-name"?: string }, Usage: UsageError): RedisConnectionOptions | undefined {
  const { redis, sentinel, "sentinel-name": name } = values;
  if (sentinel === undefined) {
    if (name !== undefined) throw new Usage("--sentinel-name needs --sentinel <host:port,…>, the sentinels to ask");
    return redis === undefined ? undefined : { url: redis };
  }
  if (redis !== undefined) throw new Usage("--redis and --sentinel are two ways to one Redis: give one of them");
  if (name === undefined) throw new Usage("--sentinel needs --sentinel-name, the name the sentinels monitor the primary by (as in --sentinel-name mymaster)");
  const sentinels = sentinel.split(",").map((spec) => {
    const at = spec.lastIndexOf(":");
    const host = spec.slice(0, at);
    const port = Number(spec.slice(at + 1));
    if (at < 1 || !Number.isSafeInteger(port) || port < 1 || port > 65_535) {
      throw new Usage(`--sentinel takes host:port,… (as in --sentinel 10.0.0.1:26379,10.0.0.2:26379), not "${sentinel}"`);
    }
    return { host, port };
  });
  return { sentinel: { name, sentinels } };
}
