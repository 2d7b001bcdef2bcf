/**
 * Faults injected into a MultiprocessSpace: what each crash reports, what
 * restarts, what is refused, and that the other agents keep answering.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AgentCrashedError,
  AgentNotFoundError,
  MailboxFullError,
  MultiprocessSpace,
  type AgentStats,
} from "../src/index.js";
import { Calculator } from "./fixtures/calculator.js";
import { Flooder, Fragile, SlowConsumer } from "./fixtures/faults.js";
import { Recorder } from "./helpers/recorder.js";

/** Resolves with the next `count` errors the space reports. */
function nextErrors(space: MultiprocessSpace, count = 1): Promise<Error[]> {
  const errors: Error[] = [];
  return new Promise((resolve) =>
    space.on("error", (error) => {
      errors.push(error);
      if (errors.length === count) resolve(errors);
    }),
  );
}

describe("reliability of MultiprocessSpace", () => {
  let space: MultiprocessSpace;
  let me: Recorder;

  /** The bystander still answers: a fault elsewhere took nothing else down. */
  async function bystanderAnswers(): Promise<void> {
    await expect(me.request({ to: "bystander", action: { name: "add", args: { a: 2, b: 3 } } })).resolves.toBe(5);
  }

  beforeEach(async () => {
    space = new MultiprocessSpace();
    me = await space.addForeground(Recorder, "me");
    await space.add(Calculator, "bystander");
  });

  afterEach(async () => {
    await space.destroy();
  });

  describe("supervision", () => {
    it("restarts a crashed agent with a fresh instance, delivering what was sent meanwhile", async () => {
      await space.add(Fragile, "fragile", undefined, { restart: "on-failure", backoffMs: 50 });
      await me.request({ to: "fragile", action: { name: "increment" } });
      await me.request({ to: "fragile", action: { name: "increment" } });
      const waiting = me.request({ to: "fragile", action: { name: "hang" } });
      const rejected = expect(waiting).rejects.toBeInstanceOf(AgentCrashedError);
      const crashed = nextErrors(space);
      me.send({ to: "fragile", action: { name: "exit", args: { code: 1 } } });
      const [error] = await crashed;
      expect(error).toBeInstanceOf(AgentCrashedError);
      expect(error).toMatchObject({ agentId: "fragile" });
      expect(error!.message).toContain("exited with code 1");
      await rejected;
      // Sent while it restarts: held, then taken by the fresh instance (count starts again).
      await expect(me.request({ to: "fragile", action: { name: "increment" } })).resolves.toBe(1);
      expect(space.agents).toContain("fragile");
      expect(space.stats().fragile).toMatchObject({ restarts: 1 });
      await bystanderAnswers();
    });

    it.each([
      ["an unhandled rejection", "rejectUnhandled", "nobody awaited this"],
      ["an error thrown by a loop", "throwInInterval", "thrown by a loop"],
    ])("treats %s as a crash, reports its cause and restarts", async (_what, name, cause) => {
      await space.add(Fragile, "fragile", undefined, { restart: "on-failure", backoffMs: 10 });
      const crashed = nextErrors(space);
      await me.request({ to: "fragile", action: { name } });
      const [error] = await crashed;
      expect(error).toBeInstanceOf(AgentCrashedError);
      expect(error!.message).toContain(cause);
      await expect(me.request({ to: "fragile", action: { name: "increment" } })).resolves.toBe(1);
      await bystanderAnswers();
    });

    it("treats running out of memory under resourceLimits as a crash, and restarts", async () => {
      await space.add(Fragile, "hungry", undefined, {
        restart: "on-failure",
        backoffMs: 10,
        resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
      });
      const crashed = nextErrors(space);
      const waiting = me.request({ to: "hungry", action: { name: "exhaustMemory" } });
      await expect(waiting).rejects.toBeInstanceOf(AgentCrashedError);
      const [error] = await crashed;
      expect(error!.message).toMatch(/out of memory|ERR_WORKER_OUT_OF_MEMORY/i);
      await expect(me.request({ to: "hungry", action: { name: "increment" } })).resolves.toBe(1);
      await bystanderAnswers();
    });

    it("restarts after a clean exit only with restart: always", async () => {
      await space.add(Fragile, "always", undefined, { restart: "always", backoffMs: 10 });
      await space.add(Fragile, "on-failure", undefined, { restart: "on-failure", backoffMs: 10 });
      const removed = new Promise((resolve) => space.once("agent:removed", resolve));
      const crashes = nextErrors(space, 2);
      me.send({ to: "always", action: { name: "exit", args: { code: 0 } } });
      me.send({ to: "on-failure", action: { name: "exit", args: { code: 0 } } });
      await crashes;
      expect(await removed).toBe("on-failure");
      await expect(me.request({ to: "always", action: { name: "increment" } })).resolves.toBe(1);
      await expect(me.request({ to: "on-failure", action: { name: "increment" } })).rejects.toBeInstanceOf(AgentNotFoundError);
    });

    it("removes the agent once restarts are exhausted; later sends get AgentNotFoundError", async () => {
      await space.add(Fragile, "doomed", undefined, { restart: "on-failure", maxRestarts: 2, withinMs: 60_000, backoffMs: 10 });
      const removed = new Promise((resolve) => space.once("agent:removed", resolve));
      for (let crash = 1; crash <= 3; crash++) {
        const crashed = nextErrors(space);
        me.send({ to: "doomed", action: { name: "exit", args: { code: 7 } } });
        await crashed;
        if (crash < 3) await expect(me.request({ to: "doomed", action: { name: "increment" } })).resolves.toBe(1);
      }
      expect(await removed).toBe("doomed");
      expect(space.agents).not.toContain("doomed");
      await expect(me.request({ to: "doomed", action: { name: "increment" } })).rejects.toBeInstanceOf(AgentNotFoundError);
      await bystanderAnswers();
    });

    it("counts a constructor that throws on restart as another crash, and gives up", async () => {
      const marker = join(mkdtempSync(join(tmpdir(), "agentspace-")), "started");
      await space.add(Fragile, "once", { refuseRestart: marker }, { restart: "on-failure", maxRestarts: 2, backoffMs: 10 });
      const removed = new Promise((resolve) => space.once("agent:removed", resolve));
      const errors = nextErrors(space, 3); // the crash, then two refused restarts
      // Waiting on the instance that is about to crash: rejected with the crash, never left hanging.
      const waiting = me.request({ to: "once", action: { name: "hang" } }, { timeoutMs: Infinity });
      const rejected = expect(waiting).rejects.toBeInstanceOf(AgentCrashedError);
      me.send({ to: "once", action: { name: "exit", args: { code: 1 } } });
      const reported = await errors;
      expect(reported.slice(1).map((error) => error.message)).toEqual([
        expect.stringContaining("failed to restart: Error: refusing to start again"),
        expect.stringContaining("failed to restart: Error: refusing to start again"),
      ]);
      expect(await removed).toBe("once");
      await rejected;
      await bystanderAnswers();
    });

    it("removes a crashed agent at once with the default policy (never)", async () => {
      await space.add(Fragile, "plain");
      const removed = new Promise((resolve) => space.once("agent:removed", resolve));
      me.send({ to: "plain", action: { name: "exit", args: { code: 1 } } });
      expect(await removed).toBe("plain");
      await expect(me.request({ to: "plain", action: { name: "increment" } })).rejects.toBeInstanceOf(AgentNotFoundError);
    });
  });

  describe("stuck agents", () => {
    it("terminates an agent in a busy loop when remove times out", async () => {
      await space.add(Fragile, "spinner");
      me.send({ to: "spinner", action: { name: "spin" } });
      const waiting = me.request({ to: "spinner", action: { name: "increment" } }, { timeoutMs: Infinity });
      const rejected = expect(waiting).rejects.toBeInstanceOf(AgentNotFoundError);
      await space.remove("spinner", { timeoutMs: 100 });
      await rejected;
      expect(space.agents).not.toContain("spinner");
      await bystanderAnswers();
    });
  });

  describe("bounded mailboxes", () => {
    it("refuses messages past the bound with MailboxFullError, and keeps the depth within it", async () => {
      await space.add(SlowConsumer, "slow", undefined, { mailboxSize: 10 });
      const answers = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => me.request({ to: "slow", action: { name: "take", args: { i } } })),
      );
      const refused = answers.filter((answer) => answer.status === "rejected");
      expect(refused.length).toBeGreaterThan(0);
      for (const answer of refused) expect((answer as PromiseRejectedResult).reason).toBeInstanceOf(MailboxFullError);
      expect(answers.filter((answer) => answer.status === "fulfilled").length + refused.length).toBe(50);
      const stats = space.stats().slow as AgentStats;
      expect(stats.mailboxDepth).toBe(0); // every request was answered: nothing is left waiting
      expect(stats.received).toBe(50 - refused.length);
    });

    it("keeps messages past the bound waiting with mailboxPolicy wait, and delivers them in order", async () => {
      await space.add(SlowConsumer, "slow", undefined, { mailboxSize: 10, mailboxPolicy: "wait" });
      const answers = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => me.request({ to: "slow", action: { name: "take", args: { i } } })),
      );
      // Ten in the mailbox, ten in the waiting room; the rest refused at once.
      const refused = answers.filter((answer) => answer.status === "rejected");
      expect(refused).toHaveLength(30);
      for (const answer of refused) expect((answer as PromiseRejectedResult).reason).toBeInstanceOf(MailboxFullError);
      const taken = await me.request<number[]>({ to: "slow", action: { name: "takenInOrder" } });
      expect(taken).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(space.stats().slow).toMatchObject({ received: 21, mailboxDepth: 0 });
    });

    it("paces a producer that awaits its requests to its consumer with mailboxPolicy wait: nothing refused", async () => {
      await space.add(SlowConsumer, "slow", undefined, { mailboxSize: 4, mailboxPolicy: "wait" });
      // Eight in flight at a time, 200 in all: twice what the mailbox holds, never more than it and its waiting room.
      let next = 0;
      const producer = async () => {
        while (next < 200) await me.request({ to: "slow", action: { name: "take", args: { i: next++ } } });
      };
      await Promise.all(Array.from({ length: 8 }, producer));
      const taken = await me.request<number[]>({ to: "slow", action: { name: "takenInOrder" } });
      expect(taken).toHaveLength(200);
    });

    it("keeps memory bounded when a producer sends 1,000,000 messages to a slow consumer", async () => {
      await space.add(Flooder, "producer");
      await space.add(SlowConsumer, "consumer", undefined, { mailboxSize: 1_000 });
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const outcome = await me.request<{ answered: number; refused: number; otherErrors: number }>(
        { to: "producer", action: { name: "flood", args: { to: "consumer", count: 1_000_000, chunk: 2_000 } } },
        { timeoutMs: Infinity },
      );
      clearInterval(sampler);
      expect(outcome.answered + outcome.refused).toBe(1_000_000); // each send ended one way or the other
      expect(outcome.otherErrors).toBe(0);
      expect(outcome.refused).toBeGreaterThan(0);
      // The stated bound: the main thread grows by less than 200 MB while a million messages pass.
      expect(peak - before).toBeLessThan(200 * 1024 * 1024);
      const consumer = space.stats().consumer as AgentStats;
      expect(consumer.mailboxDepth).toBeLessThanOrEqual(1_000);
    }, 120_000);
  });

  describe("stats", () => {
    it("counts per agent what it received, sent and failed", async () => {
      await me.request({ to: "bystander", action: { name: "add", args: { a: 1, b: 1 } } });
      await me.request({ to: "bystander", action: { name: "fail", args: { message: "counted" } } }).catch(() => {});
      await me.request({ to: "bystander", action: { name: "nope" } }).catch(() => {});
      expect(space.stats().bystander).toEqual({
        received: 3,
        sent: 3,
        errors: 2,
        restarts: 0,
        mailboxDepth: 0,
        dropped: 0,
        loops: 0,
        timers: 0,
        loopFailures: 0,
        working: 0,
      });
      expect(space.stats().me).toMatchObject({ sent: 3, received: 0 });
    });
  });
});
