/**
 * The mailbox bound is counted by the router and given back as the agent
 * takes messages. Whatever happens to a message (taken, skipped, refused,
 * lost with a crash, dropped with a removal), its room must come back: once
 * a space is idle, every live agent's mailbox depth is 0 and it answers.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { Agent, AgentCrashedError, LocalSpace, MultiprocessSpace, type Space, type SpaceOptions } from "../src/index.js";
import { Churner } from "./fixtures/churner.js";

const IDS = ["a", "b", "c"] as const;
type Id = (typeof IDS)[number];

type Step =
  | { kind: "send"; to: Id; ms: number }
  | { kind: "request"; to: Id; ms: number }
  | { kind: "broadcast" }
  | { kind: "spray"; by: Id; times: number }
  | { kind: "tell"; by: Id; to: Id; times: number }
  | { kind: "refused"; to: Id; action: "forbidden" | "missing" }
  | { kind: "crash"; who: Id }
  | { kind: "replace"; who: Id; hearOwn: boolean };

const id = fc.constantFrom(...IDS);
const steps = (crashes: boolean) =>
  fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant("send" as const), to: id, ms: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant("request" as const), to: id, ms: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ kind: fc.constant("broadcast" as const) }),
      fc.record({ kind: fc.constant("spray" as const), by: id, times: fc.integer({ min: 1, max: 8 }) }),
      fc.record({ kind: fc.constant("tell" as const), by: id, to: id, times: fc.integer({ min: 1, max: 12 }) }),
      fc.record({ kind: fc.constant("refused" as const), to: id, action: fc.constantFrom("forbidden" as const, "missing" as const) }),
      ...(crashes ? [fc.record({ kind: fc.constant("crash" as const), who: id })] : []),
      fc.record({ kind: fc.constant("replace" as const), who: id, hearOwn: fc.boolean() }),
    ),
    { minLength: 1, maxLength: 25 },
  );

/**
 * Adds a churner. A shared thread may die (another agent's crash) while the
 * agent starts in it: add then rejects, and adding again places it afresh.
 */
async function addChurner(space: Space, who: Id, hearOwn: boolean): Promise<void> {
  const add = () => space.add(Churner, who, { hearOwn }, { restart: "on-failure", maxRestarts: 1_000, backoffMs: 1 });
  await add().catch((error: Error) => {
    if (!/worker thread died|lost its thread as it started/.test(error.message)) throw error;
    return add();
  });
}

/** A ping; a thread that dies under it (a thread-mate's crash still on its way) restarts, so ask again. */
async function ping(me: Agent, who: Id): Promise<unknown> {
  for (;;) {
    try {
      return await me.request({ to: who, action: { name: "ping" } }, { timeoutMs: 10_000 });
    } catch (error) {
      if (!(error instanceof AgentCrashedError)) throw error;
    }
  }
}

async function run(space: Space, me: Agent, plan: Step[]): Promise<void> {
  const settling: Promise<unknown>[] = [];
  const ask = (to: Id, name: string, args: Record<string, unknown> = {}) =>
    settling.push(me.request({ to, action: { name, args } }, { timeoutMs: 10_000 }).catch(() => undefined));
  for (const step of plan) {
    switch (step.kind) {
      case "send":
        me.send({ to: step.to, action: { name: "work", args: { ms: step.ms } } });
        break;
      case "request":
        ask(step.to, "work", { ms: step.ms });
        break;
      case "broadcast":
        me.send({ to: "*", action: { name: "work", args: { ms: 0 } } });
        break;
      case "spray":
        ask(step.by, "spray", { times: step.times });
        break;
      case "tell":
        ask(step.by, "tell", { to: step.to, times: step.times });
        break;
      case "refused":
        ask(step.to, step.action);
        break;
      case "crash":
        ask(step.who, "crash");
        break;
      case "replace":
        await space.remove(step.who);
        await addChurner(space, step.who, step.hearOwn);
        break;
    }
  }
  await Promise.all(settling);
}

function describeAccounting(name: string, makeSpace: (options: SpaceOptions) => Space, crashes: boolean): void {
  describe(name, () => {
    it("leaves every mailbox empty, and every agent answering, once the space is idle", async () => {
      await fc.assert(
        fc.asyncProperty(steps(crashes), fc.constantFrom("reject" as const, "wait" as const), async (plan, mailboxPolicy) => {
          const space = makeSpace({ mailboxSize: 4, mailboxPolicy });
          try {
            const me = await space.addForeground(Agent, "me");
            me.handleActionError = () => undefined; // refusals of plain sends are expected here
            for (const who of IDS) await addChurner(space, who, who !== "a");
            await run(space, me, plan);
            await vi.waitFor(
              () => {
                for (const who of IDS) expect(space.stats()[who]?.mailboxDepth, who).toBe(0);
              },
              { timeout: 10_000, interval: 20 },
            );
            for (const who of IDS) await expect(ping(me, who)).resolves.toBe("pong");
          } finally {
            await space.destroy();
          }
        }),
        { numRuns: Number(process.env.FUZZ_RUNS ?? (crashes ? 5 : 40)), timeout: 15_000 },
      );
    }, 600_000);
  });
}

describeAccounting("mailbox accounting in LocalSpace", (options) => new LocalSpace(options), false);
describeAccounting("mailbox accounting in MultiprocessSpace", (options) => new MultiprocessSpace(options), true);
describeAccounting("mailbox accounting in MultiprocessSpace with threads: 2", (options) => new MultiprocessSpace({ ...options, threads: 2 }), true);
