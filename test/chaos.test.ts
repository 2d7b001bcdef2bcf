/**
 * The chaos run for a minute (see test/chaos/harness.ts; `npm run chaos --
 * --minutes N` runs it longer): nodes killed, stalled past their leases,
 * their direct connections cut, Redis killed and started again, a mailbox
 * filled, under a steady load; every check must hold.
 */
import { expect, it } from "vitest";
import { runChaos } from "./chaos/harness.js";
import { describeWithRedis, probeRedis } from "./helpers/redis.js";
import { needRedisServer } from "./helpers/redis-server.js";

const probe = needRedisServer(await probeRedis());

describeWithRedis("a chaos run across nodes", probe, () => {
  it("settles every request with its value or a typed error, keeps every durable state exact, and never answers one balance twice, through a minute of faults", { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const report = await runChaos({ seconds: 60, seed: 20261204, log: (line) => lines.push(line) });
    if (report.violations.length > 0) console.log(lines.join("\n"));
    expect(report.violations).toEqual([]);
    expect(report.answered).toBeGreaterThan(0);
    // The seed draws every kind of fault within the minute.
    expect(Object.keys(report.faults).sort()).toEqual(["cut", "fill", "kill", "redis", "stall"]);
  });
});
