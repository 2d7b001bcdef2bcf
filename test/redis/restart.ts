import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { RedisSpace } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { freePort } from "../helpers/free-port.js";
import { Recorder } from "../helpers/recorder.js";
import { RedisServer, needRedisServer } from "../helpers/redis-server.js";
import { describeWithRedis, probeRedis, rawClient, uniqueNamespace } from "../helpers/redis.js";

const probe = needRedisServer(await probeRedis());

describeWithRedis("RedisSpace through a Redis restart", probe, () => {
  let redis: RedisServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "agentspace-redis-"));
    // Its data in an append-only file under dir: a clean stop and a start keep it.
    redis = new RedisServer(await freePort(), ["--appendonly", "yes", "--save", "", "--dir", dir]);
    await redis.start();
  }, 30_000);

  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("delivers every message sent before, during and after a restart of Redis, and through killed connections", { timeout: 60_000 }, async () => {
    const space = new RedisSpace({
      redis: { url: redis.url },
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
      const killer = await rawClient(redis.url);
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
