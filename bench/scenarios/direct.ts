/**
 * RedisSpace's direct path between two processes, beside what it cannot
 * beat (a bare TCP echo, and length-prefixed frames one message each, with
 * no agentspace code) and beside RedisSpace through Redis alone. The peer
 * is a child process; both ends hold foreground agents (main threads), so
 * the figures compare network paths, not thread hops.
 *
 * The child side lives in this file too: run with AGENTSPACE_BENCH_DIRECT=<role>.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { Agent, RedisSpace, action } from "agentspace";
import { now, nsSince } from "../lib/clock.js";
import { withDeadline } from "../lib/deadline.js";
import { loaderFlags } from "../lib/library.js";
import { redisProblem } from "../lib/redis.js";
import { withRig, type Rig } from "../lib/rig.js";
import type { Count, Scenario } from "../lib/scenario.js";
import { makeMessage } from "../workers/message.mjs";

const ROLE_VAR = "AGENTSPACE_BENCH_DIRECT";
const DEADLINE_MS = 60_000;

/** The child's agent: answers at once, and counts what it is sent. */
export class DirectSink extends Agent {
  count = 0;

  @action
  echo({ n }: { n: number }): number {
    return n;
  }

  @action
  take(): void {
    this.count++;
  }

  @action
  total(): number {
    return this.count;
  }
}

/** Writes `body` as one frame: a 4-byte big-endian length, then the bytes. */
function frame(body: string): Buffer {
  const length = Buffer.byteLength(body);
  const buffer = Buffer.allocUnsafe(4 + length);
  buffer.writeUInt32BE(length, 0);
  buffer.write(body, 4);
  return buffer;
}

/** Calls `each` with every complete frame's body as the bytes arrive. */
function onFrames(socket: Socket, each: (body: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    let at = 0;
    while (pending.length - at >= 4) {
      const length = pending.readUInt32BE(at);
      if (pending.length - at - 4 < length) break;
      each(pending.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    pending = pending.subarray(at);
  });
}

/** The child: a bare TCP peer (echoes each frame; answers "end" with the count of frames before it), or a RedisSpace peer. */
async function child(role: string, namespace: string): Promise<void> {
  if (role === "raw") {
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      let count = 0;
      onFrames(socket, (body) => {
        const message = JSON.parse(body.toString()) as { action?: { name: string } };
        if (message.action?.name === "echo") socket.write(frame(body.toString()));
        else if (message.action?.name === "end") socket.write(frame(JSON.stringify({ count })));
        else count++;
      });
    });
    server.listen(0, "127.0.0.1", () => console.log(`ready ${(server.address() as { port: number }).port}`));
  } else {
    const space = new RedisSpace({ namespace, direct: role === "direct" });
    await space.addForeground(DirectSink, "sink");
    console.log("ready 0");
  }
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
}

/** Starts the child in `role`; resolves with it and the port it printed. */
async function startChild(role: string, namespace = ""): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(import.meta.url);
  const started = spawn(process.execPath, [...loaderFlags(), script, namespace], { env: { ...process.env, [ROLE_VAR]: role }, stdio: ["pipe", "pipe", "inherit"] });
  const port = await withDeadline(
    new Promise<number>((resolve, reject) => {
      let output = "";
      started.stdout!.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const ready = /ready (\d+)/.exec(output);
        if (ready) resolve(Number(ready[1]));
      });
      started.once("exit", (code) => reject(new Error(`the ${role} peer exited with ${code}: ${output}`)));
    }),
    30_000,
    `starting the ${role} peer`,
  );
  return { child: started, port };
}

function stop(started: ChildProcess): Promise<void> {
  if (started.exitCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => started.once("exit", () => resolve()));
  started.stdin!.end();
  return exited;
}

/** A bare TCP round trip: one small JSON message framed, echoed by the peer (µs). */
async function rawRoundTrips(k: number): Promise<Rig<number[]>> {
  const { child: peer, port } = await startChild("raw");
  const socket = connect({ host: "127.0.0.1", port, noDelay: true });
  await new Promise((resolve) => socket.once("connect", resolve));
  let answered: (() => void) | undefined;
  onFrames(socket, (body) => {
    JSON.parse(body.toString());
    answered?.();
  });
  return {
    async once() {
      const samples: number[] = [];
      for (let i = 0; i < k; i++) {
        const start = now();
        const message = { ...makeMessage(i, "me", "sink"), action: { name: "echo", args: { n: i } } };
        await new Promise<void>((resolve) => {
          answered = resolve;
          socket.write(frame(JSON.stringify(message)));
        });
        samples.push(nsSince(start));
      }
      return samples;
    },
    async close() {
      socket.destroy();
      await stop(peer);
    },
  };
}

/** Bare length-prefixed frames one way, one message each, written as fast as the socket takes them (msg/s). */
async function rawFrames(n: number): Promise<Rig<Count>> {
  const { child: peer, port } = await startChild("raw");
  const socket = connect({ host: "127.0.0.1", port, noDelay: true });
  await new Promise((resolve) => socket.once("connect", resolve));
  let ended: ((count: number) => void) | undefined;
  onFrames(socket, (body) => ended?.((JSON.parse(body.toString()) as { count: number }).count));
  return {
    async once() {
      const start = now();
      const done = new Promise<number>((resolve) => (ended = resolve));
      for (let i = 0; i < n; i++) {
        if (!socket.write(frame(JSON.stringify(makeMessage(i, "me", "sink"))))) await new Promise((resolve) => socket.once("drain", resolve));
      }
      socket.write(frame(JSON.stringify({ action: { name: "end" } })));
      await withDeadline(done, DEADLINE_MS, "raw frames run");
      return { count: n, ns: nsSince(start) };
    },
    async close() {
      socket.destroy();
      await stop(peer);
    },
  };
}

/** RedisSpace with the peer's sink in the child; `direct` on or off. */
async function spaceRig<T>(direct: boolean, run: (me: Agent) => Promise<T>): Promise<Rig<T>> {
  const namespace = `bench-direct-${process.pid}-${Date.now().toString(36)}`;
  const { child: peer } = await startChild(direct ? "direct" : "redis", namespace);
  const space = new RedisSpace({ namespace, direct });
  const me = await space.addForeground(Agent, "me");
  await me.request({ to: "sink", action: { name: "echo", args: { n: 0 } } }); // connected, warmed
  return {
    once: () => run(me),
    async close() {
      await space.destroy();
      await stop(peer);
    },
  };
}

function requests(direct: boolean, k: number): Promise<Rig<number[]>> {
  return spaceRig(direct, async (me) => {
    const samples: number[] = [];
    for (let i = 0; i < k; i++) {
      const start = now();
      await me.request({ to: "sink", action: { name: "echo", args: { n: i } } });
      samples.push(nsSince(start));
    }
    return samples;
  });
}

/** Sends in flight at once, at most: half the default mailbox bound, which a burst through Redis would otherwise overrun. */
const IN_FLIGHT = 5_000;

/** `n` sends, each window of them followed by a request answered once all were handled (order per sender holds) (msg/s). */
function oneWay(direct: boolean, n: number): Promise<Rig<Count>> {
  return spaceRig(direct, async (me) => {
    const start = now();
    for (let sent = 0; sent < n; ) {
      for (const upTo = Math.min(n, sent + IN_FLIGHT); sent < upTo; sent++) me.send({ to: "sink", action: { name: "take", args: { n: sent } } });
      await withDeadline(me.request({ to: "sink", action: { name: "total" } }, { timeoutMs: DEADLINE_MS }), DEADLINE_MS, "one-way run");
    }
    return { count: n, ns: nsSince(start) };
  });
}

export const direct: Scenario = {
  name: "direct",
  description: "RedisSpace's direct TCP path between two processes vs a bare TCP echo, raw length-prefixed frames, and RedisSpace through Redis",
  async run(ctx) {
    const problem = await redisProblem();
    if (problem) {
      ctx.note(`skipped: ${problem}`);
      return;
    }
    const k = ctx.size(2_000, 100);
    const n = ctx.size(50_000, 2_000);
    await withRig(rawRoundTrips(k), (once) => ctx.latency({ key: "raw-rtt", label: "bare TCP echo between two processes, one framed JSON message", unit: "µs" }, once));
    await withRig(rawFrames(n), (once) => ctx.throughput({ key: "raw-frames", label: "bare length-prefixed frames one way, one message each", unit: "msg/s" }, once));
    await withRig(requests(true, k), (once) =>
      ctx.latency({ key: "direct-request", label: "RedisSpace direct: foreground → foreground request across processes", unit: "µs", vs: "raw-rtt" }, once),
    );
    await withRig(oneWay(true, n), (once) =>
      ctx.throughput({ key: "direct-one-way", label: "RedisSpace direct: sends one way across processes", unit: "msg/s", vs: "raw-frames" }, once),
    );
    await withRig(requests(false, k), (once) =>
      ctx.latency({ key: "redis-request", label: "RedisSpace without direct: the same request through Redis", unit: "µs", vs: "raw-rtt" }, once),
    );
    await withRig(oneWay(false, n), (once) =>
      ctx.throughput({ key: "redis-one-way", label: "RedisSpace without direct: the same sends through Redis", unit: "msg/s", vs: "raw-frames" }, once),
    );
    ctx.target({ figure: "direct-request", text: "direct request p50 ≤ 1.5× the bare TCP round trip", of: "ratio", atMost: 1.5 });
    ctx.target({ figure: "direct-one-way", text: "direct one-way ≥ 0.5× raw frames", of: "ratio", atLeast: 0.5 });
    ctx.note(`${k.toLocaleString("en-US")} sequential requests per latency run, ${n.toLocaleString("en-US")} messages per one-way run; both ends are foreground agents in main threads`);
  },
};

const role = process.env[ROLE_VAR];
if (role) void child(role, process.argv[2] ?? "");
