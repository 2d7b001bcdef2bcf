import { expect, it } from "vitest";
import { AMQPSpace } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { Journeyman } from "../fixtures/faults.js";
import { describeWithBroker, listBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { Recorder } from "../helpers/recorder.js";

const probe = await probeBroker();

/** The broker's ready and unacknowledged counts for `queue`, polled until `condition` holds. */
async function queueCounts(queue: string, condition: (ready: number, unacked: number) => boolean): Promise<[number, number]> {
  for (;;) {
    const rows = await listBroker("list_queues", "name", "messages_ready", "messages_unacknowledged");
    const row = rows.find(([name]) => name === queue);
    const counts: [number, number] = [Number(row?.[1] ?? -1), Number(row?.[2] ?? -1)];
    if (condition(...counts)) return counts;
  }
}

describeWithBroker("AMQPSpace delivery", probe, () => {
  it.runIf(probe.ctl)("acks a request only once its agent has answered, so prefetch bounds what an agent holds", async () => {
    const exchange = uniqueExchange("agentspace-acks");
    const suffix = exchange.slice(-6);
    const calcId = `calc-${suffix}`;
    const space = new AMQPSpace({ exchange, tuning: { prefetch: 2 } });
    try {
      await space.add(Calculator, calcId);
      const me = await space.addForeground(Recorder, `me-${suffix}`);
      for (let i = 0; i < 5; i++) me.send({ to: calcId, action: { name: "hang" } }); // never answered
      // Two are with the agent, unacked; the broker keeps the other three.
      expect(await queueCounts(calcId, (ready, unacked) => ready + unacked === 5)).toEqual([3, 2]);
    } finally {
      await space.destroy();
    }
  });

  it("acks answered requests: nothing stays on the queue after a stream of them", async () => {
    const exchange = uniqueExchange("agentspace-acks");
    const suffix = exchange.slice(-6);
    const calcId = `calc-${suffix}`;
    const space = new AMQPSpace({ exchange, tuning: { prefetch: 4 } });
    try {
      await space.add(Calculator, calcId);
      const me = await space.addForeground(Recorder, `me-${suffix}`);
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => me.request({ to: calcId, action: { name: "add", args: { a: i, b: i } } })),
      );
      expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
      if (probe.ctl) expect(await queueCounts(calcId, (ready, unacked) => ready === 0 && unacked === 0)).toEqual([0, 0]);
    } finally {
      await space.destroy();
    }
  });

  it("redelivers what a crashed agent had taken but not answered to its restarted instance: none lost", async () => {
    const exchange = uniqueExchange("agentspace-redeliver");
    const suffix = exchange.slice(-6);
    const [workerId, meId] = [`journeyman-${suffix}`, `me-${suffix}`];
    const space = new AMQPSpace({ exchange, tuning: { prefetch: 10 } });
    try {
      await space.add(Journeyman, workerId, undefined, { restart: "on-failure", backoffMs: 10 });
      const me = await space.addForeground(Recorder, meId);
      const restarted = new Promise((resolve) => space.once("error", resolve));
      for (let item = 0; item < 100; item++) me.send({ to: workerId, action: { name: "work", args: { item, observer: meId } } });
      await me.until(() => me.notes.length >= 20);
      // Broadcasts have their own queue: this one overtakes the work still waiting, and kills the worker mid-stream.
      me.send({ to: "*", action: { name: "exit", args: { code: 1 } } });
      await restarted;
      await me.until(() => new Set(me.notes).size === 100);
      expect(space.stats()[workerId]).toMatchObject({ restarts: 1 });
    } finally {
      await space.destroy();
    }
  }, 60_000);
});
