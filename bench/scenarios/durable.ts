/**
 * What keeping an agent's state costs: deposits into an account whose
 * balance is written after every one (a SQLite store file, or Redis next to
 * its mailbox, in one script with the acknowledgement), against the same
 * account not durable, in the same run. Throughput with 256 requests in
 * flight, and sequential request p50/p99.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nanoid } from "nanoid";
import { LocalSpace, MultiprocessSpace, RedisSpace } from "agentspace";
import { DurableAccount, PlainAccount } from "../agents/account.js";
import { WINDOW, deposits, sequential } from "../lib/deposits.js";
import { redisProblem } from "../lib/redis.js";
import type { Context, Scenario } from "../lib/scenario.js";
import { spaceRig } from "../lib/space-rig.js";
import { destroying, tag, type MadeSpace } from "../lib/spaces.js";

interface Where {
  key: string;
  name: string;
  make(): MadeSpace;
}

async function measure(ctx: Context, where: Where, durable: boolean, n: number, k: number): Promise<void> {
  const Cls = durable ? DurableAccount : PlainAccount;
  const kind = durable ? "durable" : "plain";
  const made = { create: where.make, sharedIds: false };
  const rig = await spaceRig(made, async ({ space, me }) => {
    await space.add(Cls, "acct");
    return async () => ({ me, to: "acct" });
  });
  try {
    const { me, to } = await rig.once();
    const vs = durable ? { vs: `${where.key}-plain-throughput` } : {};
    await ctx.throughput({ key: `${where.key}-${kind}-throughput`, label: `${where.name}: ${kind} account, deposits (${WINDOW} in flight)`, unit: "msg/s", ...vs }, () => deposits(me, to, n));
    const lvs = durable ? { vs: `${where.key}-plain-latency` } : {};
    await ctx.latency({ key: `${where.key}-${kind}-latency`, label: `${where.name}: ${kind} account, sequential deposit requests`, unit: "µs", ...lvs }, () => sequential(me, to, k));
  } finally {
    await rig.close();
  }
}

export const durable: Scenario = {
  name: "durable",
  group: "spaces",
  description: "durable agents: deposits into an account whose state is written after each one (SQLite store, Redis) vs the same account not durable",
  async run(ctx) {
    const dir = mkdtempSync(join(tmpdir(), "agentspace-bench-durable-"));
    const file = () => join(dir, `${nanoid(8)}.db`);
    const wheres: Where[] = [
      { key: "local", name: "LocalSpace, store file", make: () => destroying(new LocalSpace({ store: file() })) },
      { key: "threads-1", name: "MultiprocessSpace threads: 1, store file", make: () => destroying(new MultiprocessSpace({ threads: 1, store: file() })) },
    ];
    const problem = await redisProblem();
    if (problem) ctx.note(`RedisSpace skipped: ${problem}`);
    else wheres.push({ key: "redis", name: "RedisSpace", make: () => destroying(new RedisSpace({ namespace: `bench-durable-${tag()}` })) });
    try {
      for (const where of wheres) {
        const slow = where.key === "redis";
        const n = slow ? ctx.size(20_000, 1_000) : ctx.size(100_000, 5_000);
        const k = slow ? ctx.size(2_000, 100) : ctx.size(5_000, 300);
        for (const keep of [false, true]) await measure(ctx, where, keep, n, k);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    ctx.note(
      "the durable account's ratio is to the plain one's in the same run; with a store file one SQLite write per agent per turn (WAL, synchronous=NORMAL), " +
        "on Redis one COMMIT script per agent per batch from its thread (the last state, with each message's acknowledgement, applied id and answer) and one HMGET per read (was each message applied?) instead of a plain acknowledgement",
    );
  },
};
