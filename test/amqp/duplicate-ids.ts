import { expect, it } from "vitest";
import { AMQPSpace } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { RawPeer, drained } from "./raw-peer.js";

const probe = await probeBroker();

describeWithBroker("AMQPSpace acks per delivery", probe, () => {
  it("answers and acks every one of 300 deliveries that share one meta.id, past a small prefetch", async () => {
    const exchange = uniqueExchange("agentspace-dup-ids");
    const suffix = exchange.slice(-6);
    const [calcId, peerId] = [`calc-${suffix}`, `raw-${suffix}`];
    // A small window: four deliveries whose acks went missing would stall the queue for good.
    const prefetch = 4;
    const space = new AMQPSpace({ exchange, tuning: { prefetch } });
    const peer = await RawPeer.open(probe, peerId, exchange);
    try {
      await space.add(Calculator, calcId);
      const count = 300;
      for (let i = 0; i < count; i++) {
        peer.publish({ meta: { id: "same-id" }, from: peerId, to: calcId, action: { name: "add", args: { a: i, b: 0 } } });
      }
      await peer.until(
        () => peer.answersTo("same-id").length === count,
        () => `${count} answers to "same-id" (${peer.answersTo("same-id").length} came)`,
      );
      const values = peer.answersTo("same-id").map((answer) => answer.action.args?.value);
      expect(values).toEqual(Array.from({ length: count }, (_, i) => i));
      if (probe.ctl) expect(await drained(calcId)).toEqual([0, 0]);
      // The whole window is free again: three requests that never end take three places, and a fourth still gets through.
      for (let i = 0; i < prefetch - 1; i++) peer.publish({ meta: { id: `hang-${i}` }, from: peerId, to: calcId, action: { name: "hang" } });
      peer.publish({ meta: { id: "after" }, from: peerId, to: calcId, action: { name: "add", args: { a: 1, b: 1 } } });
      await peer.until(
        () => peer.answersTo("after").length === 1,
        () => `the answer to a request sent once ${prefetch - 1} places of ${prefetch} were taken`,
      );
    } finally {
      await peer.close();
      await space.destroy();
    }
  }, 60_000);
});
