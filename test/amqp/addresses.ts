import { afterEach, beforeEach, expect, it } from "vitest";
import { AMQPSpace, MessageValidationError } from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { Recorder } from "../helpers/recorder.js";
import { RawPeer, drained } from "./raw-peer.js";

const probe = await probeBroker();

describeWithBroker("AMQPSpace refuses bad addresses from the broker", probe, () => {
  let space: AMQPSpace;
  let peer: RawPeer;
  let errors: Error[];
  let calcId: string;
  let peerId: string;
  let me: Recorder;

  beforeEach(async () => {
    const exchange = uniqueExchange("agentspace-addresses");
    const suffix = exchange.slice(-6);
    [calcId, peerId] = [`calc-${suffix}`, `raw-${suffix}`];
    space = new AMQPSpace({ exchange });
    errors = [];
    space.on("error", (error) => errors.push(error));
    await space.add(Calculator, calcId);
    me = await space.addForeground(Recorder, `me-${suffix}`);
    peer = await RawPeer.open(probe, peerId, exchange);
  });

  afterEach(async () => {
    await peer?.close();
    await space?.destroy();
  });

  it("drops, acks and reports once each body whose from or to is no agent id; answers the good ones in between, in order", async () => {
    const add = (id: string, from: string, to = calcId) => ({ meta: { id }, from, to, action: { name: "add", args: { a: 1, b: 2 } } });
    const bad = [
      add("bad-star", "*"), // its answer would go to everyone
      add("bad-suffix", "x-broadcast"),
      add("bad-amq", "amq.gen-1"),
      add("bad-hash", "a#b"),
      add("bad-empty", ""),
      add("bad-long", "x".repeat(246)),
      add("bad-number", 7 as unknown as string),
      add("bad-to-hash", peerId, `${calcId}#`),
      add("bad-to-empty", peerId, ""),
    ];
    const good = ["good-0", "good-1", "good-2", "good-3"];
    peer.publish(add(good[0]!, peerId));
    for (const [i, body] of bad.entries()) {
      // A bad `to` cannot be routed by itself: send it where the agent's queue is.
      peer.publishRaw(calcId, JSON.stringify(body));
      if (i % 3 === 2) peer.publish(add(good[1 + (i - 2) / 3]!, peerId));
    }
    await peer.until(
      () => peer.answersTo("good-3").length === 1,
      () => `the answer to good-3 (errors so far: ${errors.map((e) => e.message).join("; ")})`,
    );
    // Every good one answered once, in the order sent; no bad one answered.
    expect(peer.received.map((answer) => [answer.meta.parent_id, answer.action])).toEqual(
      good.map((id) => [id, { name: "[response]", args: { value: 3 } }]),
    );
    // The queue holds all of them in order, so each bad one was taken (and reported) before the last good one.
    expect(errors).toHaveLength(bad.length);
    for (const error of errors) expect(error).toBeInstanceOf(MessageValidationError);
    expect(errors.map((error) => error.message)).toEqual(bad.map(() => expect.stringMatching(/dropped a malformed message.*"(from|to)"/)));
    expect(me.values).toEqual([]); // no answer went out as a broadcast
    if (probe.ctl) expect(await drained(calcId)).toEqual([0, 0]);
  });
});
