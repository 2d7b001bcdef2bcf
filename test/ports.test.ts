/**
 * The main thread's boundary with a worker: agent code can write anything
 * onto its thread's outbound port. Nothing it writes may crash the main
 * thread, forge another agent's messages, or throw off the mailbox count;
 * well-formed messages sent between the junk still arrive, in order.
 *
 * The fuzz runs FUZZ_RUNS rounds (default 25, a few seconds); for a long run:
 * FUZZ_RUNS=100000 npx vitest run test/ports.test.ts
 */
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MultiprocessSpace, type MultiprocessSpaceOptions } from "../src/index.js";
import { Calculator } from "./fixtures/calculator.js";
import { PortForger } from "./fixtures/port-forger.js";
import { Recorder } from "./helpers/recorder.js";

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 25);
// A round takes a few ms: room for long runs, never a cut-off mid-way.
const FUZZ_TIMEOUT_MS = Math.max(30_000, FUZZ_RUNS * 200);

/** A message that claims to come from `from`, to the test's recorder. */
function forgedNote(from: string, event: unknown) {
  return { meta: { id: `forged-${String(event)}` }, from, to: "me", action: { name: "note", args: { event } } };
}

/** Items that look almost right: the shapes a careless or hostile agent would post. */
const nearMisses: unknown[] = [
  { kind: "messages", messages: [forgedNote("calc", "forged")] },
  { kind: "messages", messages: [forgedNote("*", "forged")] },
  { kind: "messages", messages: [{ ...forgedNote("forger", "bad to"), to: "x-broadcast" }] },
  { kind: "messages", messages: "not an array" },
  { kind: "messages", messages: [null, 1, "x", [], { meta: null }] },
  { kind: "taken", agent: "calc", count: -5 },
  { kind: "taken", agent: "forger", count: 1e20 },
  { kind: "taken", agent: "forger", count: Number.NaN },
  { kind: "ready", agent: "nobody" },
  { kind: "ended", agent: "__proto__" },
  { kind: "__proto__" },
  { kind: "toString" },
  { kind: "constructor" },
  JSON.parse('{"__proto__": {"kind": "messages", "messages": []}, "kind": "hasOwnProperty"}'),
  { kind: "envelope", from: "forger", to: "me", size: 1, actions: 0, errors: 0, bytes: "not bytes" },
  { kind: "envelope", from: "calc", to: "me", size: 0, actions: 0, errors: 0, bytes: new ArrayBuffer(8) },
  // Loops' reports, for an agent of another thread or malformed: neither may end or restart anyone.
  { kind: "shutdown", agent: "calc" },
  { kind: "failed", agent: "calc", loop: "run", of: "loop", error: { error: "Error: forged" } },
  { kind: "failed", agent: "forger", loop: "", of: "bogus", error: null },
  { kind: "failed", agent: "forger", loop: "run", of: "loop", error: { error: 5 } },
  { kind: "activity", agent: "calc", loops: 3, timers: 0 },
  { kind: "activity", agent: "forger", loops: -1, timers: 1.5 },
];

function describePorts(name: string, options: MultiprocessSpaceOptions): void {
  describe(`${name}: what a worker writes onto its port`, () => {
    let space: MultiprocessSpace;
    let me: Recorder;
    let warnings: Error[];
    const onWarning = (warning: Error) => warnings.push(warning);

    beforeEach(async () => {
      warnings = [];
      process.on("warning", onWarning);
      space = new MultiprocessSpace(options);
      me = await space.addForeground(Recorder, "me");
      await space.add(Calculator, "calc");
      await space.add(PortForger, "forger");
    });

    afterEach(async () => {
      process.off("warning", onWarning);
      await space.destroy();
    });

    const forger = () => space.handle<PortForger>("forger");

    it("drops messages sent as another agent, counts them, and warns once", async () => {
      await forger().postRaw({ batches: [[{ kind: "messages", messages: [forgedNote("calc", 1), forgedNote("calc", 2)] }]] });
      await forger().tell({ to: "me", seq: 0 });
      await me.until(() => me.notes.length === 1);
      expect(me.notes).toEqual([0]);
      expect(space.stats().forger!.dropped).toBe(2);
      expect(space.stats().calc!.sent).toBe(0);
      const ours = warnings.filter((warning) => (warning as { code?: string }).code === "AGENTSPACE_DROPPED");
      expect(ours).toHaveLength(1);
      expect(ours[0]!.message).toMatch(/spoke for "calc"/);
    });

    it("drops an envelope whose messages are not from its sender, or whose count is wrong, and keeps the receiver's count right", async () => {
      await forger().postEnvelope({ from: "forger", to: "calc", messages: [{ ...forgedNote("calc", 1), to: "calc" }], actions: 1 });
      const threeActions = [1, 2, 3].map((n) => ({
        meta: { id: `f${n}` },
        from: "forger",
        to: "calc",
        action: { name: "accumulate", args: { n } },
      }));
      await forger().postEnvelope({ from: "forger", to: "calc", messages: threeActions, actions: 0 });
      await forger().postEnvelope({ from: "forger", to: "calc", messages: threeActions, actions: 1_000 });
      await expect(space.handle<Calculator>("calc").state()).resolves.toEqual({ total: 0 });
      expect(space.stats().calc!.mailboxDepth).toBeGreaterThanOrEqual(0);
      await vi.waitFor(() => expect(space.stats().forger!.dropped).toBe(3));
      expect(space.stats().calc!.mailboxDepth).toBe(0);
      await expect(space.handle<Calculator>("calc").add({ a: 1, b: 2 })).resolves.toBe(3);
    });

    it("survives nesting 10,000 deep, and keeps going", async () => {
      await forger().postDeep({ depth: 10_000, objects: false });
      await forger().postDeep({ depth: 10_000, objects: true });
      await forger().tell({ to: "me", seq: 7 });
      await me.until(() => me.notes.length === 1);
      expect(me.notes).toEqual([7]);
    });

    it("ends or restarts nobody on a loop report forged for an agent of another thread", async () => {
      await forger().postRaw({ batches: [nearMisses.filter((item) => ["shutdown", "failed", "activity"].includes((item as { kind: string }).kind))] });
      await forger().tell({ to: "me", seq: 1 });
      await me.until(() => me.notes.length === 1);
      expect(space.agents).toEqual(["me", "calc", "forger"]);
      expect(space.stats().calc).toMatchObject({ restarts: 0, loops: 0, loopFailures: 0 });
      await expect(space.handle<Calculator>("calc").add({ a: 2, b: 2 })).resolves.toBe(4);
    });

    it("survives any value on the port; the well-formed messages between the junk arrive in order", async () => {
      const junk = fc.oneof(
        fc.anything({ withMap: true, withSet: true, withBigInt: true, withDate: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true }),
        fc.constantFrom(...nearMisses),
        fc.array(fc.oneof(fc.anything(), fc.constantFrom(...nearMisses)), { maxLength: 8 }),
      );
      let seq = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(junk, { minLength: 1, maxLength: 6 }), async (batches) => {
          const first = seq;
          await forger().tell({ to: "me", seq: seq++ });
          await forger().postRaw({ batches });
          await forger().tell({ to: "me", seq: seq++ });
          await me.until(() => me.notes.length === seq);
          expect(me.notes.slice(first)).toEqual([first, first + 1]);
        }),
        { numRuns: FUZZ_RUNS },
      );
      expect(me.notes).toEqual(Array.from({ length: seq }, (_, i) => i));
      await expect(space.handle<Calculator>("calc").add({ a: 2, b: 2 })).resolves.toBe(4);
      expect(space.stats().calc!.mailboxDepth).toBe(0);
    }, FUZZ_TIMEOUT_MS);
  });
}

describePorts("MultiprocessSpace", {});
describePorts("MultiprocessSpace with threads: 2", { threads: 2 });
