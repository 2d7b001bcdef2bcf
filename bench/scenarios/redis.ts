/**
 * Raw node-redis on the local Redis, set up as RedisSpace uses it: the floor
 * under every RedisSpace figure (see bench/lib/redis.ts).
 */
import { rawStreamOneWay, rawStreamRoundTrip, redisProblem } from "../lib/redis.js";
import { withRig } from "../lib/rig.js";
import type { Scenario } from "../lib/scenario.js";

export const redisRaw: Scenario = {
  name: "redis",
  group: "baselines",
  description: "raw node-redis streams on the local Redis: pipelined XADD → XREADGROUP → XACK, and a round trip over two streams",
  async run(ctx) {
    const problem = await redisProblem();
    if (problem) {
      ctx.note(`skipped: ${problem}`);
      return;
    }
    const n = ctx.size(50_000, 2_000);
    const k = ctx.size(1_000, 50);
    await withRig(rawStreamOneWay(n), (once) =>
      ctx.throughput({ key: "one-way", label: "XADD (500 per MULTI) → XREADGROUP COUNT 512 → XACK", unit: "msg/s" }, once),
    );
    await withRig(rawStreamRoundTrip(k), (once) =>
      ctx.latency({ key: "round-trip", label: "a → b → a over two streams, blocking reads, acks", unit: "µs" }, once),
    );
    ctx.note(`${n.toLocaleString("en-US")} messages per one-way run, ${k.toLocaleString("en-US")} sequential round trips; each peer has its own connections`);
  },
};
