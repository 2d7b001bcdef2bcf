/**
 * Agents that act on their own (`@loop`, `@timer`, `shutdown()`), run once
 * per space: the same start, stop, failure and shutdown semantics in each.
 * Waits are on events (notes to a recorder, a log file read after the
 * space is gone); timing is asserted only as loose bounds.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AgentCrashedError, AgentNotFoundError, LoopFailedError, type Space, type SpaceOptions } from "../../src/index.js";
import { Counter, Exploding, ExplodingTimer, HastyQuitter, Orderly, Quitter, Stubborn, Ticker } from "../fixtures/loops.js";
import { nextEvent } from "../helpers/events.js";
import { Recorder } from "../helpers/recorder.js";

export interface LoopSuiteOptions {
  /** Agents run in worker threads (a loop that ignores its signal ends with its thread). */
  workers: boolean;
}

let logs = 0;
const logDir = mkdtempSync(join(tmpdir(), "agentspace-loops-"));
/** A fresh file an agent appends what happens in it to, one line each. */
function freshLog(): string {
  return join(logDir, `log-${process.pid}-${++logs}.txt`);
}
function lines(log: string): string[] {
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

export function describeLoops(name: string, makeSpace: (options?: SpaceOptions) => Space, { workers }: LoopSuiteOptions): void {
  describe(`${name}: loops and timers`, () => {
    let space: Space;
    let me: Recorder;
    let errors: Error[];

    beforeEach(async () => {
      space = makeSpace();
      errors = [];
      space.on("error", (error) => errors.push(error));
      me = await space.addForeground(Recorder, "me");
    });

    afterEach(async () => {
      await space.destroy();
    });

    /** Notes that start with `prefix`. */
    const noted = (prefix: string) => me.notes.filter((note) => String(note).startsWith(prefix));

    it("runs a loop beside message handling: answers do not wait for it", async () => {
      await space.add(Counter, "counter");
      const counter = space.handle<Counter>("counter");
      const first = await counter.read();
      expect(first).toBeGreaterThanOrEqual(1); // started once afterAdd settled, before add resolved
      let later = first;
      // Each answer comes while the loop goes on. In LocalSpace a request is answered without leaving
      // the microtask queue, so let the loop's timer run between two asks.
      while (later <= first) {
        await new Promise((resolve) => setImmediate(resolve));
        later = await counter.read();
      }
      expect(later).toBeGreaterThan(first);
      expect(space.stats().counter).toMatchObject({ loops: 1, timers: 0, loopFailures: 0 });
    });

    it("runs a timer again only after its previous run settled: never two at once, no burst", async () => {
      const started = performance.now();
      await space.add(Ticker, "ticker", { observer: "me" });
      await me.until(() => noted("tick").length >= 3);
      const { runs, maxActive } = (await space.handle<Ticker>("ticker").report()) as { runs: number; maxActive: number };
      const elapsed = performance.now() - started;
      expect(runs).toBeGreaterThanOrEqual(3);
      // Runs start at least everyMs + runMs apart (a timer may fire a millisecond early).
      expect(runs).toBeLessThanOrEqual(Math.floor(elapsed / (Ticker.everyMs + Ticker.runMs - 2)) + 1);
      expect(maxActive).toBe(1);
      expect(space.stats().ticker).toMatchObject({ loops: 0, timers: 1 });
    });

    it("on remove, aborts the signal and waits for the loop before beforeRemove", async () => {
      const log = freshLog();
      await space.add(Orderly, "orderly", { log });
      await space.handle("orderly").help(); // the loop has started by the time an action answers
      await space.remove("orderly");
      expect(lines(log)).toEqual(["loop started", "loop aborted", "loop settled", "beforeRemove"]);
      expect(errors).toEqual([]);
    });

    it("on destroy, aborts the signal and waits for the loop before beforeRemove", async () => {
      const log = freshLog();
      await space.add(Orderly, "orderly", { log });
      await space.handle("orderly").help();
      await space.destroy();
      expect(lines(log)).toEqual(["loop started", "loop aborted", "loop settled", "beforeRemove"]);
    });

    it("ends a loop that ignores its signal within the remove timeout, and reports it", async () => {
      const log = freshLog();
      await space.add(Stubborn, "stubborn", { log });
      await space.handle("stubborn").help();
      const started = performance.now();
      await space.remove("stubborn", { timeoutMs: 200 });
      expect(performance.now() - started).toBeLessThan(2_500); // the loop itself would go on for 3 s
      expect(space.agents).not.toContain("stubborn");
      await expect(me.request({ to: "stubborn", action: { name: "help" } })).rejects.toBeInstanceOf(AgentNotFoundError);
      const reported = errors.find((error) => error instanceof AgentCrashedError && error.agentId === "stubborn");
      expect(reported?.message).toContain("did not stop within 200 ms");
      // Here a loop cannot be ended: beforeRemove runs while it goes on. A worker's thread is ended instead.
      expect(lines(log)).toEqual(workers ? ["loop started"] : ["loop started", "beforeRemove"]);
    });

    it("restarts an agent whose loop throws under on-failure: a fresh instance with fresh loops", async () => {
      await space.add(Counter, "bystander"); // with threads, it may share the failing agent's thread
      await space.add(Exploding, "exploding", { observer: "me" }, { restart: "on-failure", backoffMs: 10 });
      await me.until(() => noted("loop started").length === 1);
      const failed = nextEvent<[Error, string?]>(space, "error");
      await expect(space.handle<Exploding>("exploding").explode()).resolves.toBe("lit");
      const [error, outcome] = await failed;
      expect(error).toBeInstanceOf(LoopFailedError);
      expect(error).toMatchObject({ agentId: "exploding", loop: "run" });
      expect(error.message).toContain("loop boom");
      expect(outcome).toContain("restarting");
      await me.until(() => noted("loop started").length === 2); // the fresh instance's loop
      await expect(space.handle<Exploding>("exploding").wasExploded()).resolves.toBe(false);
      expect(space.stats().exploding).toMatchObject({ restarts: 1, loopFailures: 1, loops: 1 });
      expect(space.agents).toContain("exploding");
      // Only the failing agent restarted: its neighbour kept its instance and its loop.
      expect(space.stats().bystander).toMatchObject({ restarts: 0, loops: 1, loopFailures: 0 });
      await expect(space.handle<Counter>("bystander").read()).resolves.toBeGreaterThan(0);
    });

    it("removes an agent whose loop throws under the default policy (never)", async () => {
      await space.add(Exploding, "exploding", { observer: "me" });
      await me.until(() => noted("loop started").length === 1);
      const removed = nextEvent<[string]>(space, "agent:removed");
      await space.handle<Exploding>("exploding").explode();
      expect(await removed).toEqual(["exploding"]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ agentId: "exploding", loop: "run" });
      expect(space.agents).not.toContain("exploding");
      await expect(me.request({ to: "exploding", action: { name: "help" } })).rejects.toBeInstanceOf(AgentNotFoundError);
    });

    it("treats a timer that throws as a failure of its agent", async () => {
      const removed = nextEvent<[string]>(space, "agent:removed");
      await space.add(ExplodingTimer, "fuse");
      expect(await removed).toEqual(["fuse"]);
      expect(errors[0]).toBeInstanceOf(LoopFailedError);
      expect(errors[0]).toMatchObject({ agentId: "fuse", loop: "fuse" });
      expect(errors[0]!.message).toContain('timer "fuse" threw RangeError: timer boom');
    });

    describe("shutdown()", () => {
      it("from an action: the answer is sent first, then the agent leaves; waiting requests reject", async () => {
        await space.add(Quitter, "quitter", { observer: "me" });
        const hanging = me.request({ to: "quitter", action: { name: "hang" } }, { timeoutMs: Infinity });
        const rejected = expect(hanging).rejects.toBeInstanceOf(AgentNotFoundError);
        const removed = nextEvent<[string]>(space, "agent:removed");
        await expect(space.handle<Quitter>("quitter").quit()).resolves.toBe("bye");
        expect(await removed).toEqual(["quitter"]);
        await rejected;
        await me.until(() => me.notes.includes("beforeRemove"));
        await expect(me.request({ to: "quitter", action: { name: "ping" } })).rejects.toBeInstanceOf(AgentNotFoundError);
        expect(errors).toEqual([]);
      });

      it("from a loop", async () => {
        await space.add(Quitter, "quitter", { observer: "me" });
        const removed = nextEvent<[string]>(space, "agent:removed");
        await space.handle<Quitter>("quitter").quitFromLoop();
        expect(await removed).toEqual(["quitter"]);
        await expect(me.request({ to: "quitter", action: { name: "ping" } })).rejects.toBeInstanceOf(AgentNotFoundError);
      });

      it("from a timer", async () => {
        await space.add(Quitter, "quitter", { observer: "me" });
        const removed = nextEvent<[string]>(space, "agent:removed");
        await space.handle<Quitter>("quitter").quitFromTimer();
        expect(await removed).toEqual(["quitter"]);
        await expect(me.request({ to: "quitter", action: { name: "ping" } })).rejects.toBeInstanceOf(AgentNotFoundError);
      });

      it("right after answering: the answer reaches its requester, which was waiting when it left", async () => {
        for (let i = 0; i < 20; i++) {
          await space.add(HastyQuitter, "hasty");
          const removed = nextEvent<[string]>(space, "agent:removed");
          expect(await me.request({ to: "hasty", action: { name: "answerThenQuit" } })).toBe("bye");
          await removed;
        }
      });

      it('is never restarted, even under restart: "always"', async () => {
        await space.add(Quitter, "quitter", { observer: "me" }, { restart: "always", backoffMs: 1 });
        const removed = nextEvent<[string]>(space, "agent:removed");
        await space.handle<Quitter>("quitter").quit();
        expect(await removed).toEqual(["quitter"]);
        await me.until(() => me.notes.includes("beforeRemove"));
        // Had it restarted, the id would be taken again: it is free, and stays so.
        await expect(me.request({ to: "quitter", action: { name: "ping" } })).rejects.toBeInstanceOf(AgentNotFoundError);
        expect(space.agents).not.toContain("quitter");
        expect(space.stats()).not.toHaveProperty("quitter");
        expect(errors).toEqual([]);
      });
    });
  });
}
