import { afterEach, expect, it } from "vitest";
import { AMQPSpace, PermissionDeniedError } from "../../src/index.js";
import type { DebugMode } from "../../src/debug-gate.js";
import { Calculator } from "../fixtures/calculator.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { Recorder } from "../helpers/recorder.js";
import { RawPeer } from "./raw-peer.js";

const probe = await probeBroker();

describeWithBroker("AMQPSpace debug actions over the broker", probe, () => {
  let space: AMQPSpace | undefined;
  let peer: RawPeer | undefined;

  afterEach(async () => {
    await peer?.close();
    await space?.destroy();
  });

  /** A space with one worker Calculator and one foreground Recorder, and a raw peer on its exchange. */
  async function open(debug: DebugMode) {
    const exchange = uniqueExchange("agentspace-debug");
    const suffix = exchange.slice(-6);
    const ids = { calc: `calc-${suffix}`, me: `me-${suffix}`, peer: `raw-${suffix}` };
    space = new AMQPSpace({ exchange, debug });
    await space.add(Calculator, ids.calc);
    const me = await space.addForeground(Recorder, ids.me);
    peer = await RawPeer.open(probe, ids.peer, exchange);
    return { space, me, peer, ids };
  }

  const evalBody = (id: string, from: string, to: string, code: string) => ({ meta: { id }, from, to, action: { name: "eval", args: { code } } });

  it("with debug: true, answers this process's foreground agents and handles, and refuses a broker peer's eval unrun", async () => {
    const { space, me, peer, ids } = await open(true);
    await expect(me.request({ to: ids.calc, action: { name: "inspect" } })).resolves.toMatchObject({ total: 0 });
    await expect(me.request({ to: ids.calc, action: { name: "eval", args: { code: "this.total = 1" } } })).resolves.toBe(1);
    await expect(space.handle(ids.calc).inspect()).resolves.toMatchObject({ total: 1 });

    peer.publish(evalBody("from-peer", ids.peer, ids.calc, "this.total = 99"));
    await peer.until(() => peer.answersTo("from-peer").length === 1, () => `the answer to the peer's eval`);
    const [answer] = peer.answersTo("from-peer");
    expect(answer).toMatchObject({ from: ids.calc, to: ids.peer, action: { name: "[error]" } });
    expect(answer!.action.args?.error).toMatch(/^PermissionDeniedError: "eval" on "calc-\w+" answers only foreground agents/);

    // A `from` naming a foreground agent of this process is still a peer's forgery: the broker cannot vouch for it.
    peer.publish(evalBody("forged-from", ids.me, ids.calc, "this.total = 98"));
    await me.until(() => me.errors.length === 1);
    expect(me.errors[0]).toBeInstanceOf(PermissionDeniedError);

    await expect(me.request({ to: ids.calc, action: { name: "inspect" } })).resolves.toMatchObject({ total: 1 });
  });

  it("with debug: true, lets a foreground agent's broadcast inspect reach every agent of its process", async () => {
    const { me, ids } = await open(true);
    me.send({ to: "*", action: { name: "inspect" } });
    // The worker's snapshot and the Recorder's own (it hears its broadcasts): one remembered id, two arrivals.
    await me.until(() => me.values.length + me.errors.length === 2);
    expect(me.errors).toEqual([]);
    expect(me.values).toContainEqual(expect.objectContaining({ total: 0 }));
    await expect(me.request({ to: ids.calc, action: { name: "inspect" } })).resolves.toMatchObject({ total: 0 });
  });

  it('with debug: "remote", runs a broker peer\'s eval', async () => {
    const { me, peer, ids } = await open("remote");
    peer.publish(evalBody("from-peer", ids.peer, ids.calc, "this.total = 99"));
    await peer.until(() => peer.answersTo("from-peer").length === 1, () => `the answer to the peer's eval`);
    expect(peer.answersTo("from-peer")[0]!.action).toEqual({ name: "[response]", args: { value: 99 } });
    await expect(me.request({ to: ids.calc, action: { name: "inspect" } })).resolves.toMatchObject({ total: 99 });
  });
});
