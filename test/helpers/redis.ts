import { createClient } from "redis";
import { describeRedis, resolveRedisOptions } from "../../src/redis/index.js";
import { describeWithServer } from "./server.js";

const HOW_TO_START = 'start one with `redis-server --daemonize yes --save "" --appendonly no` (or point REDIS_URL at one)';

/** Whether a Redis answers at the url the environment gives. */
export interface RedisProbe {
  url: string;
  available: boolean;
  /** Why not, when not available. */
  reason: string;
}

export async function probeRedis(): Promise<RedisProbe> {
  const options = resolveRedisOptions();
  const probe: RedisProbe = { url: options.url, available: false, reason: "" };
  const client = createClient({ url: options.url, socket: { connectTimeout: 3_000, reconnectStrategy: false } });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.ping();
    probe.available = true;
  } catch (error) {
    probe.reason = `no Redis answers at ${describeRedis(options)} (${(error as Error).message})`;
  } finally {
    if (client.isOpen) client.destroy();
  }
  return probe;
}

/** `describe` for suites that need a real Redis: see `describeWithServer`. */
export function describeWithRedis(name: string, probe: RedisProbe, body: () => void): void {
  describeWithServer(name, probe, { what: "a Redis", requireVar: "AGENTSPACE_REQUIRE_REDIS", howToStart: HOW_TO_START }, body);
}

/** Namespaces made by uniqueNamespace: their keys are deleted after the file's suites. */
const namespacesMade = new Set<string>();

/** A namespace no other test run uses. */
export function uniqueNamespace(prefix = "test"): string {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  namespacesMade.add(name);
  return name;
}

/** A raw node-redis client on the test Redis (RESP2: plain arrays), for looking at and writing into a namespace. */
export async function rawClient(url = resolveRedisOptions().url): Promise<ReturnType<typeof createClient>> {
  const client = createClient({ url, RESP: 2 });
  client.on("error", () => {});
  await client.connect();
  return client as unknown as ReturnType<typeof createClient>;
}

/** Deletes the keys of every namespace uniqueNamespace made: call once all suites of the file are done. */
export async function deleteNamespacesMade(): Promise<void> {
  const probe = await probeRedis();
  if (!probe.available || namespacesMade.size === 0) return;
  const names = [...namespacesMade];
  namespacesMade.clear();
  const client = await rawClient(probe.url);
  try {
    for (const name of names) {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: `agentspace:{${name}}:*`, COUNT: 1000 })) keys.push(...batch);
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    client.destroy();
  }
}
