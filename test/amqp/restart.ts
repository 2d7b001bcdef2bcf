import { expect, it } from "vitest";
import { AMQPSpace, Agent } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { describeWithBroker, probeBroker, rabbitmqctl, uniqueExchange } from "../helpers/broker.js";
import { ChildScript } from "../helpers/child.js";
import { Recorder } from "../helpers/recorder.js";

const probe = await probeBroker();
const peerScript = new URL("../fixtures/amqp-peer.ts", import.meta.url);

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

  it.runIf(probe.ctl)(
    "answers every request in flight at two broker restarts, from an agent in another process, and applies each once",
    async () => {
      const exchange = uniqueExchange("agentspace-resend");
      const suffix = exchange.slice(-6);
      const calcId = `calc-${suffix}`;
      const peer = new ChildScript(peerScript, [exchange, calcId]);
      // Long enough that no request times out: what is measured is that none is lost (scripts/amqp-restarts.ts times it).
      const space = new AMQPSpace({ exchange, requestTimeoutMs: 120_000 });
      space.on("error", () => {}); // the broker's restarts are reported: expected
      try {
        await peer.waitFor(`ready ${calcId}`);
        const me = await space.addForeground(Agent, `me-${suffix}`);
        const outcomes = new Outcomes();
        let streaming = true;
        const lane = async () => {
          while (streaming) {
            const outcome = await me.request({ to: calcId, action: { name: "accumulate", args: { n: 1 } } }).then(
              () => "answered",
              (error: Error) => `${error.name}: ${error.message}`,
            );
            outcomes.push(outcome);
          }
        };
        const lanes = Array.from({ length: 8 }, lane);
        for (let restart = 0; restart < 2; restart++) {
          const before = outcomes.list.length;
          await outcomes.until((list) => list.length >= before + 50);
          await rabbitmqctl("stop_app");
          await rabbitmqctl("start_app");
        }
        const afterRestarts = outcomes.list.length;
        await outcomes.until((list) => list.length >= afterRestarts + 50);
        streaming = false;
        await Promise.all(lanes);

        expect(outcomes.list.filter((outcome) => outcome !== "answered")).toEqual([]);
        // Each applied once: a request published again after a reconnect is not run again by its receiver.
        expect(await me.request({ to: calcId, action: { name: "accumulate", args: { n: 0 } } })).toBe(outcomes.list.length);
      } finally {
        await space.destroy();
        await peer.end();
      }
    },
    180_000,
  );
});
