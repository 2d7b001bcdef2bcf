import { expect, it } from "vitest";
import { AMQPSpace } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { describeWithBroker, probeBroker, rabbitmqctl, uniqueExchange } from "../helpers/broker.js";
import { Recorder } from "../helpers/recorder.js";

const probe = await probeBroker();

/** Outcomes of a stream of requests, and a way to wait for the next ones. */
class Outcomes {
  readonly list: string[] = [];
  #waiters: Array<() => void> = [];

  push(outcome: string): void {
    this.list.push(outcome);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async until(condition: (list: string[]) => boolean): Promise<void> {
    while (!condition(this.list)) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

describeWithBroker("AMQPSpace through a broker restart", probe, () => {
  it.runIf(probe.ctl)(
    "answers or rejects every request made while the broker restarts, hangs on none, and works again after",
    async () => {
      const exchange = uniqueExchange("agentspace-restart");
      const suffix = exchange.slice(-6);
      const calcId = `calc-${suffix}`;
      const space = new AMQPSpace({ exchange, requestTimeoutMs: 5_000 });
      const errors: Error[] = [];
      space.on("error", (error) => errors.push(error));
      try {
        await space.add(Calculator, calcId);
        const me = await space.addForeground(Recorder, `me-${suffix}`);
        const outcomes = new Outcomes();
        let streaming = true;
        const stream = (async () => {
          for (let i = 0; streaming; i++) {
            const outcome = await me.request<number>({ to: calcId, action: { name: "add", args: { a: i, b: 1 } } }).then(
              (value) => (value === i + 1 ? "answered" : `wrong value ${value} for ${i}`),
              (error: Error) => error.name,
            );
            outcomes.push(outcome);
          }
        })();

        await outcomes.until((list) => list.length >= 20);
        await rabbitmqctl("stop_app");
        await rabbitmqctl("start_app");
        const afterRestart = outcomes.list.length;
        await outcomes.until((list) => list.slice(afterRestart).filter((outcome) => outcome === "answered").length >= 20);
        streaming = false;
        await stream;

        const kinds = new Set(outcomes.list);
        for (const kind of kinds) expect(["answered", "RequestTimeoutError", "AmqpPublishError", "AgentNotFoundError"]).toContain(kind);
        expect(errors.some((error) => error.name === "AmqpConnectionError")).toBe(true); // the loss was reported
      } finally {
        await space.destroy();
      }
    },
    120_000,
  );
});
