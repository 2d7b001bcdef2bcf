import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisSpace } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { freePort } from "../helpers/free-port.js";
import { Recorder } from "../helpers/recorder.js";
import { describeWithRedis, probeRedis, rawClient, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
// This suite starts Redis servers of its own: it needs the binary too.
try {
  execFileSync("redis-server", ["--version"], { stdio: "ignore" });
} catch {
  Object.assign(probe, { available: false, reason: "no redis-server binary on the PATH to start a private Redis with" });
}


/** A redis-server of this test's own, keeping its data in an append-only file under `dir`. */
class PrivateRedis {
  process: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  async start(): Promise<void> {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--appendonly", "yes", "--save", "", "--dir", this.dir];
    const server = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.process = server;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const look = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes("Ready to accept connections")) resolve();
      };
      server.stdout!.on("data", look);
      server.stderr!.on("data", look);
      server.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
  }

  /** A clean shutdown (SIGTERM): Redis writes its append-only file out and exits. */
  async stop(): Promise<void> {
    const server = this.process;
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    await exited;
  }
}

describeWithRedis("RedisSpace through a Redis restart", probe, () => {
  let redis: PrivateRedis;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "agentspace-redis-"));
    redis = new PrivateRedis(await freePort(), dir);
    await redis.start();
  }, 30_000);

  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("delivers every message sent before, during and after a restart of Redis, and through killed connections", { timeout: 60_000 }, async () => {
    const space = new RedisSpace({
      redis: { url: `redis://127.0.0.1:${redis.port}` },
      namespace: uniqueNamespace("restart"),
      tuning: { reconnect: { initialMs: 50, maxMs: 250 } },
    });
    const errors: Error[] = [];
    space.on("error", (error) => errors.push(error));
    try {
      const me = await space.addForeground(Recorder, "me");
      const sink = await space.addForeground(Recorder, "sink");
      await space.add(Calculator, "calc");
      const total = 3_000;
      let sent = 0;
      const sendSome = async (count: number) => {
        for (let i = 0; i < count; i++) me.send({ to: "sink", action: { name: "note", args: { event: sent++ } } });
        await new Promise((resolve) => setTimeout(resolve, 5));
      };
      while (sent < 1_000) await sendSome(50);
      await redis.stop();
      // Sent while Redis is down: held by the space and sent once it is back.
      while (sent < 1_500) await sendSome(50);
      await redis.start();
      while (sent < 2_000) await sendSome(50);
      // And the connections killed under it, mid-stream.
      const killer = await rawClient(`redis://127.0.0.1:${redis.port}`);
      await killer.sendCommand(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"]);
      killer.destroy();
      while (sent < total) await sendSome(50);
      await sink.until(() => new Set(sink.notes).size === total);
      expect(new Set(sink.notes)).toEqual(new Set(Array.from({ length: total }, (_, i) => i)));
      await expect(me.request({ to: "calc", action: { name: "add", args: { a: 1, b: 2 } } }, { timeoutMs: 10_000 })).resolves.toBe(3);
      // Each loss was reported.
      expect(errors.filter((error) => error.name === "RedisConnectionError").length).toBeGreaterThanOrEqual(2);
    } finally {
      await space.destroy();
    }
  });
});
