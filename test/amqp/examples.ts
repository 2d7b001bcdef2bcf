import { expect, it } from "vitest";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { ChildScript } from "../helpers/child.js";

const probe = await probeBroker();

// The README's two-terminal example, run as a user would: two processes, one exchange.
describeWithBroker("the AMQP example (examples/amqp)", probe, () => {
  it("counts primes in one process with counters hosted by another", async () => {
    const env = { AGENTSPACE_EXCHANGE: uniqueExchange("agentspace-example") };
    const workers = new ChildScript(new URL("../../examples/amqp/workers.ts", import.meta.url), ["2"], env);
    try {
      await workers.waitFor("Ctrl-C to stop");
      const coordinator = new ChildScript(new URL("../../examples/amqp/coordinator.ts", import.meta.url), ["1000000"], env);
      expect(await coordinator.exited).toBe(0);
      expect(coordinator.output).toMatch(/found 2 counters: counter-/);
      expect(coordinator.output).toContain("78,498 primes below 1,000,000");
    } finally {
      expect(await workers.end()).toBe(0);
    }
    expect(workers.output).toContain("stopped");
  }, 60_000);
});
