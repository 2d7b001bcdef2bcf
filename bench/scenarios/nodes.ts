/**
 * Nodes on Redis: how long a dead node's agents are unreachable (from the
 * kill to their answering again on another node, and its parts), and what
 * request rate agents spread over three node processes reach against one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { RedisSpace, type Manager } from "agentspace";
import { Echo } from "../agents/echo.js";
import { now, nsSince } from "../lib/clock.js";
import { cliCommand } from "../lib/library.js";
import { redisProblem, redisUrl } from "../lib/redis.js";
import type { Context, Count, Scenario } from "../lib/scenario.js";

const agents = fileURLToPath(new URL("../agents/echo.ts", import.meta.url));
const LEASE_MS = 1_000;
const READY_TIMEOUT_MS = 60_000;

/** A real `agentspace node` process; resolves once it says it is ready. */
async function startNode(namespace: string, name: string, capacity: number): Promise<ChildProcess> {
  const args = [...cliCommand(), "node", agents, "--namespace", namespace, "--name", name, "--capacity", String(capacity), "--lease-ms", String(LEASE_MS)];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node ${name} not ready in ${READY_TIMEOUT_MS} ms:\n${output}`)), READY_TIMEOUT_MS);
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`[node ${name}] ready`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", look);
    child.stderr!.on("data", look);
    child.once("exit", (code) => reject(new Error(`node ${name} exited with ${code}:\n${output}`)));
  });
  return child;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGKILL");
  return exited;
}

/** Deletes what a run left in Redis under `namespace`. */
async function forget(namespace: string): Promise<void> {
  const redis = createClient({ url: redisUrl(), RESP: 2 });
  redis.on("error", () => {});
  await redis.connect();
  try {
    const keys: string[] = [];
    for await (const batch of redis.scanIterator({ MATCH: `agentspace:{${namespace}}:*`, COUNT: 1000 })) keys.push(...batch);
    if (keys.length > 0) await redis.del(keys);
  } finally {
    redis.destroy();
  }
}

/** Polls until `condition` holds; the time it first held (ms since the epoch). */
async function whenTrue(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return Date.now();
}

interface FailoverParts {
  total: number;
  expiry: number;
  detection: number;
  start: number;
}

/** One death: `count` agents on node "victim", a spare node beside it; kill -9 the victim, time until every agent answers again. */
async function failoverOnce(space: RedisSpace, manager: Manager, namespace: string, count: number, run: number): Promise<FailoverParts> {
  const victimName = `victim-${run}`;
  const victim = await startNode(namespace, victimName, count);
  const redis = createClient({ url: redisUrl(), RESP: 2 });
  redis.on("error", () => {});
  await redis.connect();
  try {
    const ids = Array.from({ length: count }, (_, i) => `echo-${run}-${i}`);
    await Promise.all(ids.map((id) => manager.launch(Echo, id, undefined, { node: victimName, restart: "on-failure" })));
    const killedAt = Date.now();
    await kill(victim);
    // Sent the moment it died: each waits in its agent's mailbox until the agent runs elsewhere.
    const answered = Promise.all(ids.map((id) => space.handle<Echo>(id, { timeoutMs: 60_000 }).echo({ n: 1 }))).then(() => Date.now());
    const lease = `agentspace:{${namespace}}:node-lease:${victimName}`;
    const expiredAt = await whenTrue(async () => (await redis.exists(lease)) === 0);
    const back = await answered;
    const down = (await manager.events(1_000)).find((event) => event.kind === "node-down" && event.node === victimName);
    const detectedAt = down?.at ?? expiredAt;
    return { total: back - killedAt, expiry: expiredAt - killedAt, detection: detectedAt - expiredAt, start: back - detectedAt };
  } finally {
    await kill(victim);
    redis.destroy();
  }
}

async function failover(ctx: Context, count: number): Promise<void> {
  const namespace = `bench-nodes-${process.pid}-${Date.now().toString(36)}`;
  const spare = await startNode(namespace, "spare", count * (ctx.runs + 2));
  const space = new RedisSpace({ namespace, tuning: { leaseMs: LEASE_MS } });
  const manager = space.manager();
  try {
    let run = 0;
    const parts = await ctx.repeat("failover", () => failoverOnce(space, manager, namespace, count, run++));
    const of = (key: keyof FailoverParts) => parts.map((part) => part[key]);
    ctx.record({ key: "failover", label: `kill -9 → all ${count} agents answer again on another node (leaseMs ${LEASE_MS})`, unit: "ms" }, of("total"));
    ctx.record({ key: "failover-expiry", label: "  of which: the node's lease runs out", unit: "ms" }, of("expiry"));
    ctx.record({ key: "failover-detection", label: "  of which: a live node sees it and claims the recovery", unit: "ms" }, of("detection"));
    ctx.record({ key: "failover-start", label: "  of which: re-placed, started, and the waiting requests answered", unit: "ms" }, of("start"));
  } finally {
    await space.destroy();
    await kill(spare);
    await forget(namespace);
  }
}

/** Requests/s from this process to `agentCount` Echo agents placed over `nodeCount` node processes. */
async function throughput(ctx: Context, nodeCount: number, agentCount: number, n: number): Promise<void> {
  const namespace = `bench-nodes-${process.pid}-${Date.now().toString(36)}-${nodeCount}`;
  const nodes = await Promise.all(Array.from({ length: nodeCount }, (_, i) => startNode(namespace, `n${i}`, agentCount)));
  const space = new RedisSpace({ namespace, tuning: { leaseMs: LEASE_MS } });
  try {
    const manager = space.manager();
    const ids = Array.from({ length: agentCount }, (_, i) => `echo-${i}`);
    for (const id of ids) await manager.launch(Echo, id);
    const handles = ids.map((id) => space.handle<Echo>(id, { timeoutMs: 120_000 }));
    const once = async (): Promise<Count> => {
      const start = now();
      await Promise.all(Array.from({ length: n }, (_, i) => handles[i % handles.length]!.echo({ n: i })));
      return { count: n, ns: nsSince(start) };
    };
    const label = `${n.toLocaleString("en-US")} requests at once to ${agentCount} agents on ${nodeCount} node process${nodeCount > 1 ? "es" : ""}`;
    await ctx.throughput({ key: `requests-${nodeCount}-nodes`, label, unit: "calls/s", ...(nodeCount > 1 ? { vs: "requests-1-nodes" } : {}) }, once);
  } finally {
    await space.destroy();
    await Promise.all(nodes.map(kill));
    await forget(namespace);
  }
}

export const nodes: Scenario = {
  name: "nodes",
  group: "spaces",
  description: "nodes on Redis: a dead node's agents answering again elsewhere (ms, and its parts); requests/s over three nodes vs one",
  async run(ctx) {
    const problem = await redisProblem();
    if (problem) {
      ctx.note(`skipped: ${problem}`);
      return;
    }
    await failover(ctx, ctx.size(10, 3));
    const agentCount = ctx.size(6, 3);
    const n = ctx.size(20_000, 1_000);
    await throughput(ctx, 1, agentCount, n);
    await throughput(ctx, 3, agentCount, n);
    ctx.note(
      `each node a separate process (agentspace node, leaseMs ${LEASE_MS}); the requests come from this one process, ` +
        "so the three-node figure is bounded by one sender and by the machine's cores, not by the nodes",
    );
  },
};
