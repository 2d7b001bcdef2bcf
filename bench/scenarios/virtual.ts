/**
 * Virtual agents: what the first message to an inactive id costs (its
 * activation: the instance made and started, the message held and handed
 * to it) against a request to an active agent, and what touching many ids
 * once costs, with the memory left once they have passivated. On
 * RedisSpace an activation goes through Redis: the message into the id's
 * mailbox, an entry in the kind's activations stream, the lease taken by
 * the one process that took the entry; Redis's own memory is read too.
 */
import { createClient } from "redis";
import { Agent, LocalSpace, MultiprocessSpace, RedisSpace, type Space } from "agentspace";
import { Echo } from "../agents/echo.js";
import { now, nsSince } from "../lib/clock.js";
import { redisProblem, redisUrl } from "../lib/redis.js";
import type { Context, Scenario } from "../lib/scenario.js";
import { tag } from "../lib/spaces.js";

interface Where {
  key: string;
  name: string;
  make(): Space;
  /** Ids touched once, full run and quick run. */
  many: [number, number];
  /** The idle time of the ids the latencies activate (default: none passivates during the figure). */
  latencyIdleMs?: number;
  /** Redis's used memory (bytes), for a space on Redis. */
  redisMemory?: () => Promise<number>;
  /** The keys of the space's namespace in Redis. */
  redisKeys?: () => Promise<number>;
  /** Deletes what the space left in Redis: its kinds, and its passivated ids' keys. */
  cleanUp?: () => Promise<void>;
}

const WHERE: Where[] = [
  { key: "local", name: "LocalSpace", make: () => new LocalSpace(), many: [100_000, 2_000] },
  { key: "auto", name: 'MultiprocessSpace threads: "auto"', make: () => new MultiprocessSpace({ threads: "auto" }), many: [100_000, 2_000] },
];

/** RedisSpace in a namespace of its own, with what reads Redis's memory and deletes the namespace's keys. */
function onRedis(): Where {
  const namespace = `bench-virtual-${tag()}`;
  const withClient = async <T>(use: (client: ReturnType<typeof createClient>) => Promise<T>): Promise<T> => {
    const client = createClient({ url: redisUrl(), RESP: 2 });
    client.on("error", () => {});
    await client.connect();
    try {
      return await use(client as unknown as ReturnType<typeof createClient>);
    } finally {
      client.destroy();
    }
  };
  return {
    key: "redis",
    name: 'RedisSpace threads: "auto"',
    make: () => new RedisSpace({ namespace, threads: "auto" }),
    many: [20_000, 1_000],
    // The one reader of a process reads every active mailbox in each XREADGROUP: thousands left
    // active would slow every message of the process, active or not; 1 s keeps a few hundred.
    latencyIdleMs: 1_000,
    redisMemory: () => withClient(async (client) => Number(/used_memory:(\d+)/.exec(await client.info("memory"))?.[1] ?? NaN)),
    redisKeys: () =>
      withClient(async (client) => {
        let count = 0;
        for await (const keys of client.scanIterator({ MATCH: `agentspace:{${namespace}}:*`, COUNT: 1000 })) count += keys.length;
        return count;
      }),
    cleanUp: () =>
      withClient(async (client) => {
        for await (const keys of client.scanIterator({ MATCH: `agentspace:{${namespace}}:*`, COUNT: 1000 })) if (keys.length > 0) await client.del(keys);
      }),
  };
}

/** Sequential requests to `ids`, each timed (ns). */
async function timed(me: Agent, ids: string[]): Promise<number[]> {
  const samples: number[] = [];
  for (const [n, to] of ids.entries()) {
    const start = now();
    await me.request({ to, action: { name: "echo", args: { n } } });
    samples.push(nsSince(start));
  }
  return samples;
}

async function latency(ctx: Context, where: Where, k: number): Promise<void> {
  const space = where.make();
  try {
    await space.virtual(Echo, { prefix: "v:", idleMs: where.latencyIdleMs ?? 600_000 });
    await space.add(Echo, "active");
    const me = await space.addForeground(Agent, "me");
    let round = 0;
    const fresh = () => Array.from({ length: k }, (_, i) => `v:${round}:${i}`);
    await ctx.latency({ key: `${where.key}-active`, label: `${where.name}: request to an active agent`, unit: "µs" }, () =>
      timed(me, Array.from({ length: k }, () => "active")),
    );
    await ctx.latency(
      { key: `${where.key}-activation`, label: `${where.name}: first request to an inactive virtual id (activation)`, unit: "µs", vs: `${where.key}-active` },
      () => {
        round++;
        return timed(me, fresh());
      },
    );
  } finally {
    await space.destroy();
  }
}

async function touchMany(ctx: Context, where: Where, n: number): Promise<void> {
  const space = where.make();
  try {
    await space.virtual(Echo, { prefix: "v:", idleMs: 200 });
    const me = await space.addForeground(Agent, "me");
    // Twice: the garbage of the figures before (and of their spaces) must not count here.
    global.gc?.();
    global.gc?.();
    const before = process.memoryUsage();
    const redisBefore = await where.redisMemory?.();
    const keysBefore = await where.redisKeys?.();
    const start = now();
    const WINDOW = 512;
    let next = 0;
    const lane = async () => {
      while (next < n) {
        const i = next++;
        await me.request({ to: `v:${i}`, action: { name: "echo", args: { n: i } } }, { timeoutMs: 600_000 });
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, lane));
    const ns = nsSince(start);
    ctx.recordThroughput({ key: `${where.key}-touch`, label: `${where.name}: ${n.toLocaleString("en-US")} ids touched once (${WINDOW} in flight)`, unit: "ids/s" }, [{ count: n, ns }]);
    const resident = space.agents.length;
    while (space.agents.length > 1) await new Promise((resolve) => setTimeout(resolve, 100));
    if (where.redisMemory && redisBefore !== undefined) {
      const grown = (await where.redisMemory()) - redisBefore;
      ctx.record({ key: `${where.key}-redis-after`, label: `${where.name}: Redis memory growth per id once all passivated`, unit: "B" }, [grown / n]);
      const keys = (await where.redisKeys!()) - keysBefore!;
      ctx.note(`${where.name}: ${keys.toLocaleString("en-US")} keys more in the namespace once all ${n.toLocaleString("en-US")} passivated (Echo is not durable: no state kept)`);
    }
    if (global.gc) {
      global.gc();
      const after = process.memoryUsage();
      ctx.record({ key: `${where.key}-heap-after`, label: `${where.name}: main-thread heap growth per id once all passivated`, unit: "B" }, [(after.heapUsed - before.heapUsed) / n]);
    } else {
      ctx.note("heap after passivation not read: run with node --expose-gc (node --expose-gc --import tsx bench/run.ts virtual), so a full collection comes first");
    }
    ctx.note(`${where.name}: ${resident.toLocaleString("en-US")} of ${n.toLocaleString("en-US")} active right after the touches; all passivated (200 ms idle) before the heap was read`);
  } finally {
    await space.destroy();
  }
}

export const virtualAgents: Scenario = {
  name: "virtual",
  group: "spaces",
  description: "virtual agents: activation latency (first message to an inactive id) vs a request to an active agent, and many ids touched once",
  async run(ctx) {
    for (const where of WHERE) {
      await latency(ctx, where, ctx.size(1_000, 50));
      await touchMany(ctx, where, ctx.size(...where.many));
    }
    const problem = await redisProblem();
    if (problem) ctx.note(`RedisSpace skipped: ${problem}`);
    // On Redis each part has a namespace of its own: the ids the latencies activated stay out of the memory figure.
    for (const part of problem ? [] : [latency, touchMany] as const) {
      const where = onRedis();
      try {
        await (part === latency ? latency(ctx, where, ctx.size(1_000, 50)) : touchMany(ctx, where, ctx.size(...where.many)));
      } finally {
        await where.cleanUp?.();
      }
    }
    ctx.note("ratios are to the active agent's request in the same space and run; Echo is not durable (no state written at passivation)");
  },
};
