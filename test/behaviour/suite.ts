/**
 * The behaviour every space must show, run once per space: the same agents,
 * the same messages, the same answers and errors.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ActionNotFoundError,
  Agent,
  AgentCrashedError,
  AgentStartError,
  AgentNotFoundError,
  DuplicateAgentError,
  MessageValidationError,
  PermissionDeniedError,
  RemoteActionError,
  RequestTimeoutError,
  type Message,
  type Space,
  type SpaceOptions,
} from "../../src/index.js";
import {
  Calculator,
  Faulty,
  InterleavedWorker,
  Lifecycle,
  Moduleless,
  Sequencer,
  SerialWorker,
} from "../fixtures/calculator.js";
import { Recorder } from "../helpers/recorder.js";

export interface SuiteOptions {
  /** Agents run in worker threads: crashes can be injected and modules are required. */
  workers: boolean;
}

export function describeSpace(name: string, makeSpace: (options?: SpaceOptions) => Space, { workers }: SuiteOptions): void {
  describe(name, () => {
    let space: Space;
    let me: Recorder;

    beforeEach(async () => {
      space = makeSpace();
      me = await space.addForeground(Recorder, "me");
      await space.add(Calculator, "calc");
    });

    afterEach(async () => {
      await space.destroy();
    });

    describe("messages", () => {
      it("answers a request with the action's value", async () => {
        await expect(me.request({ to: "calc", action: { name: "add", args: { a: 1, b: 2 } } })).resolves.toBe(3);
      });

      it("sends and receives: a plain send's answer reaches handleActionValue", async () => {
        const id = me.send({ to: "calc", action: { name: "add", args: { a: 20, b: 22 } } });
        expect(typeof id).toBe("string");
        await me.until(() => me.values.length === 1);
        expect(me.values).toEqual([42]);
      });

      it("answers a plain send even to a sender that only listens, and counts every answer", async () => {
        const plain = await space.addForeground(Agent, "plain");
        const before = space.stats().calc!.sent;
        plain.send({ to: "calc", action: { name: "add", args: { a: 1, b: 1 } } }); // nobody takes this value
        await plain.request({ to: "calc", action: { name: "nothing" } });
        const stream = plain.messages();
        plain.send({ to: "calc", action: { name: "add", args: { a: 2, b: 2 } } });
        expect((await stream.next()).value).toMatchObject({ from: "calc", action: { name: "[response]", args: { value: 4 } } });
        expect(space.stats().calc!.sent).toBe(before + 3);
      });

      it("delivers an agent's send to another agent", async () => {
        await expect(
          me.request({ to: "calc", action: { name: "askOther", args: { to: "me", name: "note", args: { event: "hello" } } } }),
        ).resolves.toBeNull();
        expect(me.notes).toEqual(["hello"]);
      });

      it("answers an action that returns nothing with null", async () => {
        await expect(me.request({ to: "calc", action: { name: "nothing" } })).resolves.toBeNull();
      });

      it("resolves an async action's value", async () => {
        await expect(me.request({ to: "calc", action: { name: "slow", args: { ms: 5, value: "done" } } })).resolves.toBe("done");
      });

      it("correlates each answer with its request by meta.parent_id", async () => {
        const seen: Message[] = [];
        space.on("message", (message) => seen.push(message));
        await me.request({ to: "calc", action: { name: "add", args: { a: 1, b: 1 } } });
        const [request, answer] = seen;
        expect(request).toMatchObject({ from: "me", to: "calc", action: { name: "add" } });
        expect(answer).toMatchObject({ from: "calc", to: "me", action: { name: "[response]", args: { value: 2 } } });
        expect(answer!.meta.parent_id).toBe(request!.meta.id);
      });

      it("keeps the order of 10,000 messages from one sender to one receiver", async () => {
        await space.add(Sequencer, "sender");
        // Sent in one synchronous burst: room for all of them, past the default bound of 10,000.
        await space.add(Sequencer, "receiver", undefined, { mailboxSize: 20_000 });
        const report = await space.handle<Sequencer>("sender").sendMany({ to: "receiver", count: 10_000 });
        expect(report).toEqual({ received: 10_000, inOrder: true });
      });

      it("shows every message between two agents to a 'message' listener, and counts them in stats", async () => {
        await space.add(Sequencer, "sender");
        await space.add(Sequencer, "receiver");
        let seen = 0;
        const count = (message: Message) => message.from === "sender" && message.to === "receiver" && seen++;
        space.on("message", count);
        await expect(space.handle<Sequencer>("sender").sendMany({ to: "receiver", count: 1_000 })).resolves.toEqual({
          received: 1_000,
          inOrder: true,
        });
        expect(seen).toBe(1_001); // the 1,000 sends and the final request
        space.off("message", count);
        // Unwatched, a run of messages between workers may travel sealed: the counts stay exact.
        await space.handle<Sequencer>("sender").sendMany({ to: "receiver", count: 1_000 });
        expect(space.stats().receiver).toMatchObject({ received: 2_002, sent: 2_002, errors: 0, mailboxDepth: 0 });
        expect(space.stats().sender).toMatchObject({ received: 2, sent: 2_002 + 2 });
      });

      it("keeps the order of messages from a foreground agent", async () => {
        await space.add(Sequencer, "receiver");
        for (let i = 0; i < 2_000; i++) me.send({ to: "receiver", action: { name: "take", args: { i } } });
        await expect(me.request({ to: "receiver", action: { name: "report" } })).resolves.toEqual({ received: 2_000, inOrder: true });
      });
    });

    describe("errors", () => {
      it("rejects a request to an unknown agent with AgentNotFoundError, without waiting for a timeout", async () => {
        const answer = me.request({ to: "nobody", action: { name: "add" } }, { timeoutMs: Infinity });
        await expect(answer).rejects.toBeInstanceOf(AgentNotFoundError);
        await expect(answer).rejects.toThrow('no agent "nobody"');
      });

      it("rejects an unknown action with ActionNotFoundError, without waiting for a timeout", async () => {
        const answer = me.request({ to: "calc", action: { name: "divide" } }, { timeoutMs: Infinity });
        await expect(answer).rejects.toBeInstanceOf(ActionNotFoundError);
        await expect(answer).rejects.toThrow('"divide" not found on "calc"');
      });

      it("gives a throwing action's error to the caller as RemoteActionError, and keeps serving", async () => {
        const error = (await me
          .request({ to: "calc", action: { name: "fail", args: { message: "bad input" } } })
          .catch((e: unknown) => e)) as RemoteActionError;
        expect(error).toBeInstanceOf(RemoteActionError);
        expect(error).toMatchObject({ remoteName: "RangeError", remoteMessage: "bad input" });
        expect(error.remoteStack).toContain("RangeError: bad input");
        await expect(me.request({ to: "calc", action: { name: "add", args: { a: 2, b: 2 } } })).resolves.toBe(4);
      });

      it("gives an async action's rejection to the caller", async () => {
        await expect(me.request({ to: "calc", action: { name: "failLater" } })).rejects.toThrow("Error: async boom");
      });

      it("passes a plain send's error answer to handleActionError", async () => {
        me.send({ to: "calc", action: { name: "fail", args: { message: "for the handler" } } });
        await me.until(() => me.errors.length === 1);
        expect(me.errors[0]).toBeInstanceOf(RemoteActionError);
        expect(me.errors[0]!.message).toBe("RangeError: for the handler");
      });

      it("times a request out with RequestTimeoutError", async () => {
        const answer = me.request({ to: "calc", action: { name: "slow", args: { ms: 2_000 } } }, { timeoutMs: 20 });
        await expect(answer).rejects.toBeInstanceOf(RequestTimeoutError);
      });

      it("aborts a request through its signal", async () => {
        const controller = new AbortController();
        const answer = me.request({ to: "calc", action: { name: "slow", args: { ms: 2_000 } } }, { signal: controller.signal });
        controller.abort(new Error("changed my mind"));
        await expect(answer).rejects.toThrow("changed my mind");
        const aborted = new AbortController();
        aborted.abort();
        await expect(me.request({ to: "calc", action: { name: "add" } }, { signal: aborted.signal })).rejects.toThrow();
      });

      it("rejects malformed messages at the sender with MessageValidationError", () => {
        const bad: unknown[] = [
          null,
          { action: { name: "add" } },
          { to: "", action: { name: "add" } },
          { to: "a*b", action: { name: "add" } },
          { to: "calc" },
          { to: "calc", action: { name: "" } },
          { to: "calc", action: { name: "add", args: [1, 2] } },
          { to: "calc", action: { name: "add" }, meta: { parent_id: 7 } },
        ];
        for (const message of bad) {
          expect(() => me.send(message as never), JSON.stringify(message)).toThrow(MessageValidationError);
        }
      });

      it("rejects a request with a malformed message instead of sending it", async () => {
        await expect(me.request({ to: "calc", action: { name: 5 } } as never)).rejects.toBeInstanceOf(MessageValidationError);
      });

      it("refuses an argument that cannot be cloned, naming it", async () => {
        const answer = me.request({ to: "calc", action: { name: "add", args: { a: 1, b: () => 2 } } });
        await expect(answer).rejects.toBeInstanceOf(MessageValidationError);
        await expect(answer).rejects.toThrow("action.args.b cannot be cloned: it is a function");
      });

      it("answers with an error when an action's value cannot be cloned", async () => {
        const answer = me.request({ to: "calc", action: { name: "returnsFunction" } });
        await expect(answer).rejects.toBeInstanceOf(MessageValidationError);
        await expect(answer).rejects.toThrow('the value of "returnsFunction".fn cannot be cloned');
      });

      it("rejects a request to everyone, which has no single answer", async () => {
        await expect(me.request({ to: "*", action: { name: "help" } })).rejects.toBeInstanceOf(MessageValidationError);
      });
    });

    describe("broadcast", () => {
      it('reaches every agent, and the sender too by default', async () => {
        await space.add(Calculator, "calc2");
        const other = await space.addForeground(Recorder, "other");
        me.send({ to: "*", action: { name: "note", args: { event: "hi all" } } });
        await me.until(() => me.notes.length === 1);
        await other.until(() => other.notes.length === 1);
        expect(other.notes).toEqual(["hi all"]);
        me.send({ to: "*", action: { name: "accumulate", args: { n: 5 } } });
        await me.until(() => me.values.filter((value) => value === 5).length === 2);
        expect(me.errors).toEqual([]); // agents without the action ignore it silently
      });

      it("does not reach the sender when receiveOwnBroadcasts is false", async () => {
        const other = await space.addForeground(Recorder, "other");
        me.receiveOwnBroadcasts = false;
        me.send({ to: "*", action: { name: "note", args: { event: "not for me" } } });
        await other.until(() => other.notes.length === 1);
        // The broadcast was routed to `me` before `other` answers; a marker sent after it proves it was dropped.
        await me.request({ to: "me", action: { name: "note", args: { event: "marker" } } });
        expect(me.notes).toEqual(["marker"]);
      });
    });

    describe("help", () => {
      it("describes one agent's actions, leaving denied ones out", async () => {
        const help = await space.handle<Calculator>("calc").help();
        expect(help.add).toEqual({
          description: "Add two numbers",
          args: { a: { type: "number" }, b: { type: "number" } },
          returns: { type: "number" },
        });
        expect(help.slow!.description).toBe("Resolves after ms milliseconds");
        expect(help).not.toHaveProperty("secret");
        expect(help).toHaveProperty("guarded");
      });

      it("describes one action when asked by action_name", async () => {
        const help = await me.request({ to: "calc", action: { name: "help", args: { action_name: "add" } } });
        expect(Object.keys(help as object)).toEqual(["add"]);
      });

      it("is answered by every agent when sent to everyone", async () => {
        await space.add(Calculator, "calc2");
        me.send({ to: "*", action: { name: "help" } });
        await me.until(() => me.values.length === 3); // calc, calc2 and me
        const withAdd = me.values.filter((help) => Object.hasOwn(help as object, "add"));
        expect(withAdd).toHaveLength(2);
      });
    });

    describe("access", () => {
      it("refuses an ACCESS_DENIED action with PermissionDeniedError", async () => {
        const answer = me.request({ to: "calc", action: { name: "secret" } });
        await expect(answer).rejects.toBeInstanceOf(PermissionDeniedError);
        await expect(answer).rejects.toThrow('"calc.secret" not permitted');
      });

      it("asks requestPermission for an ACCESS_REQUESTED action", async () => {
        await expect(me.request({ to: "calc", action: { name: "guarded", args: { allow: true } } })).resolves.toBe("allowed");
        await expect(me.request({ to: "calc", action: { name: "guarded", args: { allow: false } } })).rejects.toBeInstanceOf(
          PermissionDeniedError,
        );
      });
    });

    describe("agent callbacks and answers", () => {
      it("calls afterAdd, beforeAction, the action, afterAction and beforeRemove in order", async () => {
        await space.add(Lifecycle, "life", { observer: "me" });
        await expect(me.request({ to: "life", action: { name: "ping" } })).resolves.toBe("pong");
        await space.remove("life");
        await me.until(() => me.notes.length === 5);
        expect(me.notes).toEqual(["afterAdd", "beforeAction:ping", "action:ping", "afterAction:ping:pong:", "beforeRemove"]);
      });

      it("answers once with respondWith, ignoring the later return value", async () => {
        await expect(me.request({ to: "calc", action: { name: "respondEarly" } })).resolves.toBe("early");
        await expect(me.request({ to: "calc", action: { name: "respondAfterAwait" } })).resolves.toBe("respondAfterAwait");
      });

      it("answers with raiseWith's error after an await", async () => {
        await expect(me.request({ to: "calc", action: { name: "raiseAfterAwait" } })).rejects.toThrow("TypeError: raised later");
      });

      it("lets an action request the agent that called it (no deadlock)", async () => {
        await space.add(Calculator, "calc2");
        const value = await me.request({
          to: "calc",
          action: { name: "askOther", args: { to: "calc2", name: "askOther", args: { to: "calc", name: "add", args: { a: 3, b: 4 } } } },
        });
        expect(value).toBe(7);
      });

      it("interleaves async actions by default, and runs them one at a time when serial", async () => {
        await space.add(SerialWorker, "serial");
        await space.add(InterleavedWorker, "interleaved");
        for (const id of ["serial", "interleaved"]) {
          const first = me.request({ to: id, action: { name: "step", args: { name: "a", ms: 30 } } });
          const second = me.request({ to: id, action: { name: "step", args: { name: "b", ms: 1 } } });
          await Promise.all([first, second]);
        }
        await expect(me.request({ to: "serial", action: { name: "history" } })).resolves.toEqual([
          "start:a",
          "end:a",
          "start:b",
          "end:b",
        ]);
        const interleaved = (await me.request({ to: "interleaved", action: { name: "history" } })) as string[];
        expect(interleaved.slice(0, 2)).toEqual(["start:a", "start:b"]);
      });
    });

    describe("looking inside", () => {
      it("denies inspect and eval unless the space runs with debug", async () => {
        await expect(me.request({ to: "calc", action: { name: "inspect" } })).rejects.toBeInstanceOf(PermissionDeniedError);
        await expect(me.request({ to: "calc", action: { name: "eval", args: { code: "1 + 1" } } })).rejects.toBeInstanceOf(
          PermissionDeniedError,
        );
        expect(await space.handle("calc").help()).not.toHaveProperty("eval");
      });

      it("inspects an agent's state and evaluates code in it when debug is on", async () => {
        const debug = makeSpace({ debug: true });
        try {
          // Its own id: on a broker, agent ids are unique across every space of the virtual host.
          await debug.add(Calculator, "inspected", { start: 10 });
          const calc = debug.handle<Calculator>("inspected");
          await calc.accumulate({ n: 5 });
          const state = await calc.inspect();
          expect(state).toMatchObject({ id: "inspected", total: 15, calls: [] });
          await expect(calc.eval({ code: "this.total * 2" })).resolves.toBe(30);
          await expect(calc.eval({ code: "const t = this.total; return t + 1;" })).resolves.toBe(16);
          await expect(calc.eval({ code: "await Promise.resolve(this.id)" })).resolves.toBe("inspected");
          await expect(calc.eval({ code: "this.nope()" })).rejects.toThrow("TypeError");
        } finally {
          await debug.destroy();
        }
      });

      it("lets a foreground agent watch its messages with on() and messages()", async () => {
        const seen: string[] = [];
        me.on("message", (message) => seen.push(message.action.name));
        const stream = me.messages();
        me.send({ to: "calc", action: { name: "add", args: { a: 1, b: 1 } } });
        const first = await stream.next();
        expect(first.value).toMatchObject({ from: "calc", action: { name: "[response]", args: { value: 2 } } });
        me.send({ to: "me", action: { name: "note", args: { event: "self" } } });
        const received: string[] = [];
        for await (const message of stream) {
          received.push(message.action.name);
          if (received.length === 2) break; // the note, then its answer
        }
        expect(received).toEqual(["note", "[response]"]);
        expect(seen).toEqual(["[response]", "note", "[response]"]);
      });
    });

    describe("space", () => {
      it("rejects a duplicate id and an invalid one", async () => {
        await expect(space.add(Calculator, "calc")).rejects.toBeInstanceOf(DuplicateAgentError);
        await expect(space.addForeground(Recorder, "me")).rejects.toBeInstanceOf(DuplicateAgentError);
        await expect(space.add(Calculator, "amq.calc")).rejects.toThrow('must not start with "amq."');
        await expect(space.add(Calculator, "a#b")).rejects.toThrow('must not contain "*" or "#"');
        expect(await space.handle<Calculator>("calc").add({ a: 1, b: 1 })).toBe(2);
      });

      it("passes init to the constructor", async () => {
        await space.add(Calculator, "primed", { start: 100 });
        await expect(space.handle<Calculator>("primed").accumulate({ n: 1 })).resolves.toBe(101);
      });

      it("rejects add when the constructor or afterAdd throws, and stays usable", async () => {
        const refused = space.add(Faulty, "f1", { failIn: "constructor" });
        await expect(refused).rejects.toThrow("constructor refused");
        // Typed, named after the agent, what it threw kept as the cause.
        await expect(refused).rejects.toBeInstanceOf(AgentStartError);
        await expect(refused).rejects.toMatchObject({ agentId: "f1", cause: expect.objectContaining({ message: expect.stringContaining("constructor refused") }) });
        await expect(space.add(Faulty, "f2", { failIn: "afterAdd" })).rejects.toThrow("afterAdd refused");
        expect(space.agents).toEqual(["me", "calc"]);
        await expect(me.request({ to: "f1", action: { name: "help" } })).rejects.toBeInstanceOf(AgentNotFoundError);
        await space.add(Faulty, "f2", { failIn: "nowhere" as "afterAdd" });
        expect(await space.handle<Calculator>("calc").add({ a: 1, b: 1 })).toBe(2);
      });

      it("emits agent:added and agent:removed, and lists its agents", async () => {
        const events: string[] = [];
        space.on("agent:added", (id) => events.push(`added ${id}`));
        space.on("agent:removed", (id) => events.push(`removed ${id}`));
        await space.add(Calculator, "extra");
        expect(space.agents).toEqual(["me", "calc", "extra"]);
        await space.remove("extra");
        expect(events).toEqual(["added extra", "removed extra"]);
        expect(space.agents).toEqual(["me", "calc"]);
      });

      it("rejects requests waiting on an agent that is removed, and later ones with AgentNotFoundError", async () => {
        const waiting = me.request({ to: "calc", action: { name: "slow", args: { ms: 5_000 } } });
        const rejected = expect(waiting).rejects.toBeInstanceOf(AgentNotFoundError);
        await space.remove("calc");
        await rejected;
        await expect(me.request({ to: "calc", action: { name: "add" } })).rejects.toBeInstanceOf(AgentNotFoundError);
        await expect(space.remove("calc")).rejects.toBeInstanceOf(AgentNotFoundError);
      });

      it("gives typed handles whose actions return promises", async () => {
        const calc = space.handle<Calculator>("calc");
        const sum: number = await calc.add({ a: 1, b: 2 });
        expect(sum).toBe(3);
        await expect(calc.fail({ message: "through a handle" })).rejects.toThrow("RangeError: through a handle");
        await expect(space.handle<Calculator>("nobody").add({ a: 1, b: 2 })).rejects.toBeInstanceOf(AgentNotFoundError);
        expect(await Promise.resolve(calc)).toBe(calc); // a handle is not a thenable
      });

      it("holds any number of foreground agents whose state the caller reads directly", async () => {
        const second = await space.addForeground(Calculator, "local-calc", { start: 1 });
        await me.request({ to: "local-calc", action: { name: "accumulate", args: { n: 2 } } });
        expect(second.total).toBe(3);
        expect(second).toBeInstanceOf(Agent);
      });

      it("destroys idempotently and refuses new agents afterwards", async () => {
        await space.destroy();
        await space.destroy();
        expect(space.agents).toEqual([]);
        await expect(space.add(Calculator, "late")).rejects.toThrow("destroyed");
      });
    });

    if (workers) {
      describe("workers", () => {
        it("refuses a class without static module, saying how to fix it", async () => {
          await expect(space.add(Moduleless, "nomod")).rejects.toThrow("add `static module = import.meta.url;` to class Moduleless");
        });

        it("reports a worker that exits, rejects requests waiting on it, and keeps the others serving", async () => {
          await space.add(Calculator, "doomed", undefined, { isolate: true }); // a thread of its own: its crash is its alone
          const errors: Error[] = [];
          space.on("error", (error) => errors.push(error));
          const removed = new Promise((resolve) => space.once("agent:removed", resolve));
          const waiting = me.request({ to: "doomed", action: { name: "slow", args: { ms: 10_000 } } });
          const rejected = expect(waiting).rejects.toThrow('agent "doomed" crashed: its worker exited with code 3');
          me.send({ to: "doomed", action: { name: "exit", args: { code: 3 } } });
          await rejected;
          await expect(waiting).rejects.toBeInstanceOf(AgentCrashedError);
          expect(await removed).toBe("doomed");
          expect(errors).toHaveLength(1);
          expect(errors[0]).toMatchObject({ agentId: "doomed" });
          expect(space.agents).not.toContain("doomed");
          await expect(me.request({ to: "doomed", action: { name: "add" } })).rejects.toBeInstanceOf(AgentNotFoundError);
          await expect(me.request({ to: "calc", action: { name: "add", args: { a: 1, b: 2 } } })).resolves.toBe(3);
        });

        it("reports an uncaught error inside an agent as a crash with its cause", async () => {
          await space.add(Calculator, "doomed", undefined, { isolate: true }); // a thread of its own: its crash is its alone
          const crashed = new Promise<Error>((resolve) => space.once("error", resolve));
          await expect(me.request({ to: "doomed", action: { name: "throwUncaught" } })).resolves.toBe("scheduled");
          const error = await crashed;
          expect(error).toBeInstanceOf(AgentCrashedError);
          expect(error.message).toContain("uncaught in a timer");
          await expect(me.request({ to: "calc", action: { name: "add", args: { a: 1, b: 2 } } })).resolves.toBe(3);
        });
      });
    }
  });
}
