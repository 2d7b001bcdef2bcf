import { expect, it } from "vitest";
import { ChildScript } from "../helpers/child.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();

// The README's examples, run as a user would.
describeWithRedis("the Redis examples (examples/redis)", probe, () => {
  it("counts primes in one process with counters hosted by another", async () => {
    const env = { AGENTSPACE_NAMESPACE: uniqueNamespace("example") };
    const workers = new ChildScript(new URL("../../examples/redis/workers.ts", import.meta.url), ["2"], env);
    try {
      await workers.waitFor("Ctrl-C to stop");
      const coordinator = new ChildScript(new URL("../../examples/redis/coordinator.ts", import.meta.url), ["1000000"], env);
      expect(await coordinator.exited).toBe(0);
      expect(coordinator.output).toMatch(/found 2 counters: counter-0, counter-1/);
      expect(coordinator.output).toContain("78,498 primes below 1,000,000");
    } finally {
      expect(await workers.end()).toBe(0);
    }
    expect(workers.output).toContain("stopped");
  }, 60_000);

  it("finishes the job, every chunk counted once, when a worker process is killed mid-run", async () => {
    const env = { AGENTSPACE_NAMESPACE: uniqueNamespace("crash") };
    const crash = new ChildScript(new URL("../../examples/redis/crash.ts", import.meta.url), ["2000000"], env);
    expect(await crash.exited).toBe(0);
    expect(crash.output).toMatch(/killing workers 1 \(pid \d+\) with SIGKILL/);
    expect(crash.output).toContain("148,933 primes below 2,000,000");
    expect(crash.output).toContain("every chunk counted once");
  }, 90_000);
});
