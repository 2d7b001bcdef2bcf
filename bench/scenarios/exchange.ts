/**
 * The HTTP exchange: deposits into a plain account through `agentspace
 * exchange` (a process of its own, as users run it) and through Academy's own server (its
 * `python -m academy.exchange.cloud`, when ../shared/tools/academy's venv is
 * set up), beside RedisSpace, in the same run; and Academy's own client
 * calling an Academy agent through each exchange. Throughput with 256
 * requests in flight, and sequential request p50/p99.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { HttpSpace, RedisSpace } from "agentspace";
import { PlainAccount } from "../agents/account.js";
import { WINDOW, deposits, sequential } from "../lib/deposits.js";
import { cliCommand } from "../lib/library.js";
import { redisProblem } from "../lib/redis.js";
import type { Context, Count, Scenario } from "../lib/scenario.js";
import { spaceRig } from "../lib/space-rig.js";
import { destroying, tag, type MadeSpace } from "../lib/spaces.js";

const ACADEMY_PY = process.env.ACADEMY_PY ?? "/tmp/academy-venv/bin/python";
const ACADEMY_TOOLS = join(process.cwd(), "../shared/tools/academy");
const LOAD_SCRIPT = fileURLToPath(new URL("../lib/academy-load.py", import.meta.url));
const run = promisify(execFile);

async function measure(ctx: Context, key: string, name: string, create: () => MadeSpace, n: number, k: number): Promise<void> {
  const rig = await spaceRig({ create, sharedIds: false }, async ({ space, me }) => {
    await space.add(PlainAccount, "acct");
    return async () => ({ me, to: "acct" });
  });
  try {
    const { me, to } = await rig.once();
    const vs = key === "redis" ? {} : { vs: "redis-throughput" };
    await ctx.throughput({ key: `${key}-throughput`, label: `${name}: deposits (${WINDOW} in flight)`, unit: "msg/s", ...vs }, () => deposits(me, to, n));
    const lvs = key === "redis" ? {} : { vs: "redis-latency" };
    await ctx.latency({ key: `${key}-latency`, label: `${name}: sequential deposit requests`, unit: "µs", ...lvs }, () => sequential(me, to, k));
  } finally {
    await rig.close();
  }
}

/**
 * Resolves with `pattern`'s first group once `child` prints a line that
 * matches it, once only; its output is still read after, so that it never
 * blocks on a full pipe. (A wait started by later output once outlived its
 * server and kept the bench alive.)
 */
function printed(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const look = (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match === null) return;
      child.stdout!.off("data", look);
      child.stdout!.resume();
      resolve(match[1]!);
    };
    child.stdout!.on("data", look);
    child.once("exit", (code) => reject(new Error(`${what} exited (${code}) before it was ready: ${out}`)));
  });
}

/** `agentspace exchange` of the library under test on a free port; resolves with its url once it listens. */
async function startOurs(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [...cliCommand(), "exchange", "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  return { url: await printed(child, /listening at (\S+)/, "agentspace exchange"), child };
}

async function stop(child: ChildProcess, group: boolean): Promise<void> {
  const exited = new Promise((resolve) => child.once("exit", resolve));
  if (group) process.kill(-child.pid!, "SIGTERM");
  else child.kill("SIGTERM");
  await exited;
  child.stdout?.destroy();
}

/** One of ../shared/tools/academy's scripts, in a process group of its own; resolves with what it prints after READY. */
async function startAcademyScript(args: string[]): Promise<{ ready: string; child: ChildProcess }> {
  const child = spawn(ACADEMY_PY, args, { cwd: ACADEMY_TOOLS, stdio: ["ignore", "pipe", "inherit"], detached: true });
  return { ready: await printed(child, /READY (\S+)/, args.join(" ")), child };
}

/** Academy's own exchange on a free-ish port; resolves with its url once it listens. */
async function startAcademy(): Promise<{ url: string; child: ChildProcess }> {
  const port = 20_000 + Math.floor(Math.random() * 10_000);
  const { ready: url, child } = await startAcademyScript(["peer.py", "--serve-only", String(port)]);
  try {
    await listening(url);
  } catch (error) {
    await stop(child, true);
    throw error;
  }
  return { url, child };
}

interface AcademyLoad {
  throughput: Count[];
  latency: number[][];
}

/**
 * Academy's own client and agent, nothing of ours but (perhaps) the exchange:
 * an Academy agent (peer.py) on the exchange at `url`, and Academy's client
 * (lib/academy-load.py) calling its `echo`, `n` with 256 in flight and `k` one
 * after another, each round timed in Python.
 */
async function academyLoad(ctx: Context, key: string, name: string, url: string, n: number, k: number): Promise<void> {
  const peer = await startAcademyScript(["peer.py", "--exchange", url, "--name", "bench-echo"]);
  try {
    const { stdout } = await run(ACADEMY_PY, [LOAD_SCRIPT, url, peer.ready, "--requests", String(n), "--window", String(WINDOW), "--sequential", String(k), "--rounds", String(ctx.runs)]);
    const load = JSON.parse(stdout) as AcademyLoad;
    // Academy's server is the baseline of the same load through ours.
    const vs = key === "ours" ? { vs: "academy-client-academy-throughput" } : {};
    ctx.recordThroughput({ key: `academy-client-${key}-throughput`, label: `Academy client → Academy agent on ${name}: requests (${WINDOW} in flight)`, unit: "msg/s", ...vs }, load.throughput);
    const lvs = key === "ours" ? { vs: "academy-client-academy-latency" } : {};
    ctx.recordLatency({ key: `academy-client-${key}-latency`, label: `Academy client → Academy agent on ${name}: sequential requests`, unit: "µs", ...lvs }, load.latency);
  } finally {
    await stop(peer.child, true);
  }
}

/** Resolves once `url`'s port takes connections (Academy's script prints its url a moment before). */
async function listening(url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  for (let attempt = 0; attempt < 200; attempt++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`Academy's exchange at ${url} never took a connection`);
}

export const exchange: Scenario = {
  name: "exchange",
  group: "spaces",
  description: "HttpSpace through agentspace exchange and through Academy's own HTTP exchange, beside RedisSpace: deposits with 256 in flight, sequential requests",
  async run(ctx) {
    const n = ctx.size(10_000, 500);
    const k = ctx.size(1_000, 100);
    const problem = await redisProblem();
    if (problem) ctx.note(`RedisSpace skipped: ${problem}`);
    else await measure(ctx, "redis", "RedisSpace", () => destroying(new RedisSpace({ namespace: `bench-exchange-${tag()}` })), n, k);
    const academyProblem = !existsSync(ACADEMY_PY) || !existsSync(ACADEMY_TOOLS) ? `no ${ACADEMY_PY} (set it up with ../shared/tools/academy/setup.sh)` : undefined;
    const m = ctx.size(2_000, 200);
    const j = ctx.size(200, 20);
    const ours = await startOurs();
    try {
      await measure(ctx, "ours", "HttpSpace on agentspace exchange", () => destroying(new HttpSpace({ url: ours.url })), n, k);
      if (academyProblem === undefined) await academyLoad(ctx, "ours", "agentspace exchange", ours.url, m, j);
    } finally {
      await stop(ours.child, false);
    }
    if (academyProblem !== undefined) return ctx.note(`Academy's own exchange and client skipped: ${academyProblem}`);
    let academy: Awaited<ReturnType<typeof startAcademy>>;
    try {
      academy = await startAcademy();
    } catch (error) {
      return ctx.note(`Academy's own exchange skipped: it did not start (${(error as Error).message})`);
    }
    try {
      await measure(ctx, "academy", "HttpSpace on Academy's own exchange", () => destroying(new HttpSpace({ url: academy.url })), n, k);
      await academyLoad(ctx, "academy", "Academy's own exchange", academy.url, m, j);
    } finally {
      // Its script runs the server in a process of its own: the whole group goes.
      await stop(academy.child, true);
    }
    ctx.note(
      "each exchange runs in a process of its own: Academy's in Python (aiohttp), ours in Node; a message reaches its receiver as an SSE event; " +
        "HttpSpace sends agentspace's exchange what waits in one PUT /messages, Academy's a PUT per message; " +
        `Academy's client and agent (Python, a PUT per message) time themselves: ${m} requests a round`,
    );
  },
};
