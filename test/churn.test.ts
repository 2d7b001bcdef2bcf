/**
 * A departure is told only to the agents that asked the departed one
 * something (their requests may wait on it), in every space; requests
 * waiting on it still end at once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { AgentNotFoundError, LocalSpace, MultiprocessSpace, type Space } from "../src/index.js";
import type { Message } from "../src/message.js";
import { Router, type Route } from "../src/router.js";
import { Calculator } from "./fixtures/calculator.js";

/** A route on a real Router that records the departures it is told of; `ask(to)` is its agent sending `to` an action. */
async function member(router: Router, id: string, told: string[]): Promise<Route & { ask(to: string): void }> {
  const route: Route & { ask(to: string): void } = {
    deliver: () => {},
    peerGone: (peerId) => told.push(`${id} told ${peerId} left`),
    ask: (to) => {
      router.asked(route, id, to);
      router.route(action(id, to));
    },
  };
  await router.add(id, route);
  return route;
}

function action(from: string, to: string): Message {
  return { meta: { id: `${from}-${to}` }, from, to, action: { name: "work" } };
}

describe("Router departures", () => {
  it("tells only the agents that sent the departed one an action", async () => {
    const router = new Router();
    const told: string[] = [];
    const asker = await member(router, "asker", told);
    await member(router, "bystander", told);
    await member(router, "busy", told);
    asker.ask("busy");
    await router.delete("busy", new AgentNotFoundError("busy was removed"));
    expect(told).toEqual(["asker told busy left"]);
  });

  it("records an agent that asks the same one again once, and tells it once", async () => {
    const router = new Router();
    const told: string[] = [];
    const asker = await member(router, "asker", told);
    await member(router, "target", told);
    for (let i = 0; i < 3; i++) asker.ask("target");
    await router.delete("target", new AgentNotFoundError("target was removed"));
    expect(told).toEqual(["asker told target left"]);
  });

  it("tells askers of a crash, and after it only those that ask again", async () => {
    const router = new Router();
    const told: string[] = [];
    const asker = await member(router, "asker", told);
    await member(router, "flaky", told);
    asker.ask("flaky");
    router.interrupted("flaky", new Error("crashed"));
    router.interrupted("flaky", new Error("crashed again"));
    expect(told).toEqual(["asker told flaky left"]);
    asker.ask("flaky"); // the same receiver as last time: must be reported again
    await router.delete("flaky", new AgentNotFoundError("flaky was removed"));
    expect(told).toEqual(["asker told flaky left", "asker told flaky left"]);
  });

  it("tells an asker of a later agent with the same id", async () => {
    const router = new Router();
    const told: string[] = [];
    const asker = await member(router, "asker", told);
    await member(router, "reused", told);
    asker.ask("reused");
    await router.delete("reused", new AgentNotFoundError("gone"));
    await member(router, "reused", told);
    asker.ask("reused");
    await router.delete("reused", new AgentNotFoundError("gone again"));
    expect(told).toEqual(["asker told reused left", "asker told reused left"]);
  });

  it("does not tell an asker that left before", async () => {
    const router = new Router();
    const told: string[] = [];
    const asker = await member(router, "asker", told);
    await member(router, "target", told);
    asker.ask("target");
    await router.delete("asker", new AgentNotFoundError("asker was removed"));
    await router.delete("target", new AgentNotFoundError("target was removed"));
    expect(told).toEqual([]);
  });

  it("tells each of several askers, and keeps an asker of several agents for the ones still here", async () => {
    const router = new Router();
    const told: string[] = [];
    const first = await member(router, "first", told);
    const second = await member(router, "second", told);
    await member(router, "server", told);
    await member(router, "other", told);
    first.ask("server");
    first.ask("other");
    first.ask("server");
    second.ask("server");
    await router.delete("server", new AgentNotFoundError("server was removed"));
    expect(told.sort()).toEqual(["first told server left", "second told server left"]);
    await router.delete("other", new AgentNotFoundError("other was removed"));
    expect(told.slice(2)).toEqual(["first told other left"]);
  });
});

const spaces: Array<[string, () => Space]> = [
  ["LocalSpace", () => new LocalSpace()],
  ["MultiprocessSpace, threads: \"auto\"", () => new MultiprocessSpace({ threads: "auto" })],
  ["MultiprocessSpace, threads: 1 (all thread-mates)", () => new MultiprocessSpace({ threads: 1 })],
  ["MultiprocessSpace, a thread each", () => new MultiprocessSpace()],
];

describe.each(spaces)("%s: a request between agents waiting on one that is removed", (_name, makeSpace) => {
  let space: Space | undefined;
  afterEach(async () => {
    await space?.destroy();
  });

  it("fails at once with AgentNotFoundError, while bystanders go on", async () => {
    space = makeSpace();
    const me = await space.addForeground(Calculator, "me");
    await space.add(Calculator, "asker");
    await space.add(Calculator, "slowpoke");
    await space.add(Calculator, "bystander");
    const relayed = me.request({ to: "asker", action: { name: "askOther", args: { to: "slowpoke", name: "hang" } } }, { timeoutMs: 30_000 });
    const failed = expect(relayed).rejects.toMatchObject({ name: "AgentNotFoundError" });
    // The asker's request has reached slowpoke once slowpoke answers another one after it.
    await expect(me.request({ to: "slowpoke", action: { name: "add", args: { a: 1, b: 1 } } })).resolves.toBe(2);
    await space.remove("slowpoke");
    await failed;
    await expect(me.request({ to: "bystander", action: { name: "add", args: { a: 2, b: 3 } } })).resolves.toBe(5);
    await expect(
      me.request({ to: "asker", action: { name: "askOther", args: { to: "slowpoke", name: "add" } } }),
    ).rejects.toMatchObject({ name: "AgentNotFoundError" });
  });
});
