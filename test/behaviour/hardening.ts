/**
 * What every space must survive: hostile names, leaks of mailbox room,
 * goodbyes that throw, timeouts out of range, crashes nobody listens to,
 * ids that would clash on a broker, debug actions from the wrong caller,
 * values that would change on the way. Run once per space.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  MessageValidationError,
  PermissionDeniedError,
  RemoteActionError,
  type Space,
  type SpaceOptions,
} from "../../src/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { GrumpyGoodbye, NamedThrower, QuietBroadcaster, Snoop } from "../fixtures/hostile.js";
import { Recorder } from "../helpers/recorder.js";

export interface HardeningOptions {
  /** Agents run in worker threads (crashes can be injected). */
  workers: boolean;
  /** What the space carries: structured clone, or JSON (a broker). */
  carries: "clone" | "json";
}

/** Waits until no agent has anything in its mailbox (taken reports travel after the answers). */
async function idle(space: Space): Promise<void> {
  await vi.waitFor(() => {
    for (const [id, stats] of Object.entries(space.stats())) expect(stats.mailboxDepth, id).toBe(0);
  });
}

export function describeHardening(name: string, makeSpace: (options?: SpaceOptions) => Space, { workers, carries }: HardeningOptions): void {
  describe(`${name}: hostile input`, () => {
    let space: Space;
    let me: Recorder;
    let errors: Error[];

    async function open(options?: SpaceOptions): Promise<void> {
      await space?.destroy();
      space = makeSpace(options);
      errors = [];
      space.on("error", (error) => errors.push(error));
      me = await space.addForeground(Recorder, "me");
    }

    beforeEach(() => open());
    afterEach(() => space.destroy());

    describe("error names from the wire", () => {
      for (const errorName of ["toString", "__proto__", "constructor", "valueOf", "hasOwnProperty"]) {
        it(`gives an error named "${errorName}" to the caller as RemoteActionError, and keeps serving`, async () => {
          await space.add(NamedThrower, "thrower");
          const failure = me.request({ to: "thrower", action: { name: "throwNamed", args: { name: errorName, message: "odd" } } });
          await expect(failure).rejects.toBeInstanceOf(RemoteActionError);
          await expect(failure).rejects.toMatchObject({ remoteName: errorName, remoteMessage: "odd" });
          await expect(me.request({ to: "thrower", action: { name: "ping" } })).resolves.toBe("pong");
        });
      }
    });

    describe("mailbox room", () => {
      it("gives back the room of broadcasts an agent skips because they are its own", async () => {
        await open({ mailboxSize: 5 });
        await space.add(QuietBroadcaster, "loud");
        for (let round = 0; round < 7; round++) {
          await expect(me.request({ to: "loud", action: { name: "shout", args: { times: 3 } } })).resolves.toBe(3);
          await idle(space);
        }
        for (let i = 0; i < 10; i++) await expect(me.request({ to: "loud", action: { name: "ping" } })).resolves.toBe("pong");
        expect(space.stats().loud!.mailboxDepth).toBe(0);
      });
    });

    describe("remove", () => {
      it("finishes, frees the id and reports the error when beforeRemove throws", async () => {
        await space.add(GrumpyGoodbye, "grumpy");
        await space.remove("grumpy");
        expect(space.agents).not.toContain("grumpy");
        expect(errors.map((error) => error.message)).toContainEqual(expect.stringContaining("will not leave quietly"));
        await space.add(GrumpyGoodbye, "grumpy");
        await expect(me.request({ to: "grumpy", action: { name: "ping" } })).resolves.toBe("pong");
      });

      it("destroys a space whose agents' beforeRemove throws", async () => {
        await space.add(GrumpyGoodbye, "grumpy-1");
        await space.add(GrumpyGoodbye, "grumpy-2");
        await space.destroy();
        expect(space.agents).toEqual([]);
      });
    });

    describe("timeouts", () => {
      it("waits as asked for a timeout beyond setTimeout's range, instead of timing out at once", async () => {
        await space.add(Calculator, "calc");
        const slow = { to: "calc", action: { name: "slow", args: { ms: 30, value: "late" } } };
        await expect(me.request(slow, { timeoutMs: 2 ** 31 + 1_000 })).resolves.toBe("late");
        await expect(me.request(slow, { timeoutMs: Number.MAX_SAFE_INTEGER })).resolves.toBe("late");
      });

      it("refuses a negative or NaN timeout with a RangeError that says so", async () => {
        await space.add(Calculator, "calc");
        const add = { to: "calc", action: { name: "add", args: { a: 1, b: 2 } } };
        await expect(me.request(add, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs must be a number of milliseconds/);
        await expect(me.request(add, { timeoutMs: Number.NaN })).rejects.toBeInstanceOf(RangeError);
        await expect(space.remove("calc", { timeoutMs: Number.NaN })).rejects.toBeInstanceOf(RangeError);
        expect(() => makeSpace({ requestTimeoutMs: -5 })).toThrow(RangeError);
        await expect(me.request(add, { timeoutMs: Infinity })).resolves.toBe(3);
      });
    });

    describe("ids", () => {
      it("refuses an id ending in -broadcast, and one over 245 bytes of UTF-8, in every space", async () => {
        await expect(space.add(Calculator, "calc-broadcast")).rejects.toThrow(/-broadcast/);
        await expect(space.add(Calculator, "€".repeat(82))).rejects.toThrow(/245 bytes/); // 246 bytes
        await space.add(Calculator, "€".repeat(81)); // 243 bytes
        expect(() => me.send({ to: "x-broadcast", action: { name: "add" } })).toThrow(MessageValidationError);
      });
    });

    describe("debug actions", () => {
      it("answers inspect and eval from handles and foreground agents of this process only", async () => {
        await open({ debug: true });
        await space.add(Calculator, "calc");
        await space.add(Snoop, "snoop");
        await expect(space.handle("calc").inspect()).resolves.toMatchObject({ total: 0 });
        await expect(me.request({ to: "calc", action: { name: "eval", args: { code: "this.total = 1" } } })).resolves.toBe(1);
        const snooped = me.request({
          to: "snoop",
          action: { name: "snoop", args: { to: "calc", name: "eval", args: { code: "this.total = 99" } } },
        });
        await expect(snooped).rejects.toBeInstanceOf(PermissionDeniedError);
        await expect(snooped).rejects.toThrow(/foreground agents and handles/);
        await expect(space.handle<Calculator>("calc").state()).resolves.toEqual({ total: 1 });
      });

      it('opens them to every agent with debug: "remote"', async () => {
        await open({ debug: "remote" });
        await space.add(Calculator, "calc");
        await space.add(Snoop, "snoop");
        const snooped = me.request({
          to: "snoop",
          action: { name: "snoop", args: { to: "calc", name: "eval", args: { code: "this.total = 99" } } },
        });
        await expect(snooped).resolves.toBe(99);
      });
    });

    describe("values", () => {
      const odd: Array<[string, unknown]> = [
        ["Map", new Map([["a", 1]])],
        ["Set", new Set([1, 2])],
        ["Date", new Date(0)],
        ["Uint8Array", new Uint8Array([1, 2, 3])],
        ["BigInt", 10n],
      ];
      for (const [kind, value] of odd) {
        if (carries === "clone") {
          it(`carries a ${kind} exactly as sent`, async () => {
            await space.add(Calculator, "calc");
            await expect(me.request({ to: "calc", action: { name: "echo", args: { value } } })).resolves.toEqual(value);
          });
        } else {
          it(`refuses a ${kind}, which JSON would change, naming where it is`, async () => {
            await space.add(Calculator, "calc");
            const sent = me.request({ to: "calc", action: { name: "echo", args: { value } } });
            await expect(sent).rejects.toBeInstanceOf(MessageValidationError);
            await expect(sent).rejects.toThrow(/args\.value.*cannot travel as JSON/);
          });
        }
      }
    });

    if (workers) {
      describe("crashes nobody listens to", () => {
        it("prints one line per crash to stderr: the agent, the cause and what the space did", async () => {
          const quiet = makeSpace();
          const lines: string[] = [];
          let printed: () => void = () => {};
          const seen = new Promise<void>((resolve) => (printed = resolve));
          const spy = vi.spyOn(console, "error").mockImplementation((line: unknown) => {
            lines.push(String(line));
            printed();
          });
          try {
            await quiet.add(Calculator, "doomed");
            const caller = await quiet.addForeground(Recorder, "caller");
            await caller.request({ to: "doomed", action: { name: "exit", args: { code: 3 } } }).catch(() => {});
            await seen;
            expect(lines).toHaveLength(1);
            expect(lines[0]).toMatch(/"doomed"/);
            expect(lines[0]).toMatch(/code 3/);
            expect(lines[0]).toMatch(/removing it from the space \(its restart policy allows no restart\)/);
          } finally {
            spy.mockRestore();
            await quiet.destroy();
          }
        });
      });
    }
  });
}
