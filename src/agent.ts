import { AsyncLocalStorage } from "node:async_hooks";
import { ACCESS_DENIED, ACCESS_REQUESTED, actionsOf, type ActionSpec, type HelpEntry } from "./action.js";
import { ATTACH, DETACH, PEER_GONE, PROCESS, RECEIVE, SETTLED, WANTS_VALUE, type AgentLink } from "./agent-link.js";
import {
  ActionNotFoundError,
  AgentNotFoundError,
  MessageValidationError,
  PermissionDeniedError,
  describeError,
  errorFromWire,
} from "./errors.js";
import { ALWAYS, ANSWER_KEY, answersAlways } from "./answer-mark.js";
import { answerTo } from "./answer.js";
import { GATHER_LISTEN_MS, Gathering, type GatherOptions, type Gathered } from "./gather.js";
import { createHandle, type HandleOf } from "./handle.js";
import { builtinActions } from "./builtins.js";
import {
  BROADCAST,
  RESPONSE,
  assertCloneable,
  isAnswer,
  newMessageId,
  validateOutgoing,
  type Message,
  type OutgoingMessage,
} from "./message.js";
import { assertJsonValue } from "./json-value.js";
import { MessageStream } from "./message-stream.js";
import { PendingRequests, type RequestOptions } from "./pending.js";
import { checkTimeoutMs } from "./timeout.js";
import type { MessageTracing, Span } from "./telemetry/tracing.js";

/**
 * A typed proxy to an agent: each of `T`'s actions becomes a method that
 * sends a request and resolves with the action's (awaited) return type.
 *
 * ```ts
 * const calc = space.handle<Calculator>("calc");
 * const sum: number = await calc.add({ a: 1, b: 2 });
 * ```
 */
export type Handle<T> = HandleOf<T, Agent>;

/** Ended gathers an agent remembers, to drop their late answers. */
const MAX_ENDED_GATHERS = 1_000;

/** The message each action, callback and their awaits run for. */
const current = new AsyncLocalStorage<Message>();

type MaybePromise<T> = T | Promise<T>;

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | undefined)?.then === "function";
}

/** Runs `next` now, or once `value` settles if it is a promise. */
function andThen<T, R>(value: MaybePromise<T>, next: (value: T) => MaybePromise<R>): MaybePromise<R> {
  return isPromise(value) ? value.then(next) : next(value);
}

/**
 * An agent: an object whose `@action` methods other agents invoke by
 * message. The same class runs unchanged in every space.
 */
export class Agent {
  // Two statics a subclass may declare (not declared here, so that neither
  // needs `override`): `static module = import.meta.url`, where worker-based
  // spaces import the class from, and `static serial = true`, to take the next
  // message only once the previous action has settled.

  readonly id: string;
  /** Whether this agent's own `"*"` messages reach it. */
  receiveOwnBroadcasts = true;

  #link: AgentLink | undefined;
  /**
   * The messages it sent as requests, by identity: whether an answer is
   * wanted is asked of the very message sent (in its own thread), and an
   * identity lookup costs less than hashing every sent id. Weak: a message
   * nobody holds any more is gone from it too.
   */
  #requests: WeakSet<Message> | undefined;
  /** Its requests awaiting answers: made at its first request (most agents of a swarm make none). */
  #pending: PendingRequests | undefined;
  /** Broadcast requests gathering answers, by message id. */
  #gathers: Map<string, Gathering> | undefined;
  /** Gathers that ended, the last MAX_ENDED_GATHERS of them: answers coming late are dropped, not handled as a plain send's. */
  #gathered: Set<string> | undefined;
  /** Messages answered early by respondWith/raiseWith: their action's outcome is not sent again. */
  #answeredEarly: WeakSet<Message> | undefined;
  #listeners: Set<(message: Message) => void> | undefined;
  #onDetach: Set<() => void> | undefined;
  /** The action running now, synchronously; and the async ones not yet answered: shutdown() from one waits for its answer. */
  #running: Message | undefined;
  #working: Set<Message> | undefined;
  /** shutdown() was called while handling this message: the agent leaves once it is answered. */
  #leaveAfter: Message | undefined;
  #leaving = false;
  /** Actions started and not yet answered (and gates not yet passed): a reload waits for them. */
  #inFlight = 0;
  #idle: (() => void) | undefined;
  /** The CONSUMER span of each message being handled, while an SDK traces messages (see telemetry/tracing.ts). */
  #spans: Map<Message, { tracing: MessageTracing; span: Span }> | undefined;
  /** Made at its first async action (see #settledOne). */
  #oneSettled: (() => void) | undefined;

  constructor(id: string, _init?: unknown) {
    this.id = id;
  }

  // ---- sending ----------------------------------------------------------

  /** Sends a message and returns its id. Its answer goes to `handleActionValue`/`handleActionError`. */
  send(message: OutgoingMessage): string {
    checkOutgoing(message);
    const id = newMessageId();
    const link = this.#linked();
    const sent = this.#built(message, id, link);
    const tracing = link.tracing;
    if (tracing === undefined) {
      link.post(sent);
      return id;
    }
    const span = tracing.sent(sent, "send", current.getStore());
    try {
      link.post(sent);
      tracing.ended(span, true);
    } catch (error) {
      tracing.ended(span, false, error);
      throw error;
    }
    return id;
  }

  /** Sends a message and resolves with the action's value, or rejects with its typed error. */
  request<T = unknown>(message: OutgoingMessage, options: RequestOptions = {}): Promise<T> {
    try {
      checkOutgoing(message);
      if (message.to === BROADCAST) {
        throw new MessageValidationError(`request() needs one recipient; send() to "*" and gather the answers in handleActionValue`);
      }
      if (isAnswer(message as Message)) {
        throw new MessageValidationError(`request() of "${message.action.name}" would never be answered: answers are sent, not requested`);
      }
      const link = this.#linked();
      const id = newMessageId();
      const pending = (this.#pending ??= new PendingRequests());
      const answer = pending.add(id, message.to, options.timeoutMs ?? link.requestTimeoutMs, options.signal);
      try {
        const sent = this.#built(message, id, link);
        // Before it is posted: the host asks at once whether its answer is wanted.
        (this.#requests ??= new WeakSet()).add(sent);
        const tracing = link.tracing;
        if (tracing !== undefined) {
          // Its span lasts until the answer (or the failure) comes.
          const span = tracing.sent(sent, "request", current.getStore());
          answer.then(
            () => tracing.ended(span, true),
            (error: unknown) => tracing.ended(span, false, error),
          );
        }
        link.post(sent);
      } catch (error) {
        pending.settle(id, message.to, false, error);
      }
      return answer as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * A typed proxy to agent `id`, as `space.handle` gives outside agents:
   * each action a method that requests it from this agent, and a misspelled
   * action or wrong arguments a compile error.
   *
   * ```ts
   * const total = await this.handle<Ledger>("ledger").post({ amount: 5 });
   * ```
   */
  handle<T extends Agent = Agent>(id: string, options: RequestOptions = {}): Handle<T> {
    return createHandle<Handle<T>>((name, args) => this.request({ to: id, action: { name, args } }, options));
  }

  /**
   * Asks every agent (`to: "*"`) and gathers the answers by agent id: the
   * values, the errors (an agent with no such action answers with
   * ActionNotFoundError), and, with `expect`, the ids that had not answered
   * in time. Ends as soon as every expected id has answered, else after
   * `timeoutMs`.
   *
   * ```ts
   * const { values, missing } = await this.gather<number>({ to: "*", action: { name: "infected" } }, { expect: people });
   * ```
   */
  gather<T = unknown>(message: OutgoingMessage, options: GatherOptions = {}): Promise<Gathered<T>> {
    try {
      checkOutgoing(message);
      if (message.to !== BROADCAST) throw new MessageValidationError(`gather() asks every agent: send it to "*", not "${message.to}" (use request() for one)`);
      const link = this.#linked();
      const timeoutMs = checkTimeoutMs(options.timeoutMs ?? (options.expect ? link.requestTimeoutMs : GATHER_LISTEN_MS), "timeoutMs");
      const id = newMessageId();
      const gathers = (this.#gathers ??= new Map());
      const gathering = new Gathering<T>({ expect: options.expect, timeoutMs }, () => {
        gathers.delete(id);
        const ended = (this.#gathered ??= new Set());
        ended.add(id);
        if (ended.size > MAX_ENDED_GATHERS) ended.delete(ended.values().next().value!);
      });
      gathers.set(id, gathering as Gathering);
      const built = this.#built(message, id, link);
      const sent: Message = { ...built, meta: { ...built.meta, [ANSWER_KEY]: ALWAYS } as Message["meta"] };
      // Before it is posted: each receiver's host asks whether its answer is wanted.
      (this.#requests ??= new WeakSet()).add(sent);
      link.post(sent);
      return gathering.result;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Runs a task module's default export on `input` in the space's CPU pool
   * (worker threads shared by all agents) and resolves with its value: heavy,
   * stateless work that must not hold up this agent's mailbox.
   *
   * ```ts
   * const sum = await this.compute<number>(new URL("./sum-task.ts", import.meta.url), numbers);
   * ```
   */
  compute<T = unknown>(task: URL | string, input?: unknown): Promise<T> {
    try {
      assertCloneable(input, "input");
      return this.#linked().compute({ kind: "task", module: String(task), input }) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The message being handled: the action's, or the answer's in `handleActionValue`/`handleActionError`. */
  currentMessage(): Message | undefined {
    return current.getStore();
  }

  /** Answers the current message with `value` now; the action's return value is then not sent. */
  respondWith(value: unknown): void {
    this.#answerEarly(this.#answerable("respondWith"), true, value);
  }

  /** Answers the current message with `error` now; what the action later returns or throws is not sent. */
  raiseWith(error: unknown): void {
    this.#answerEarly(this.#answerable("raiseWith"), false, error);
  }

  /**
   * Removes this agent from its space for good: its loops stop, then
   * `beforeRemove()` runs; it is never restarted, whatever its restart
   * policy; later messages to it get AgentNotFoundError. Called from an
   * action, the action's answer is still sent first. Also from a loop or a timer.
   */
  shutdown(): void {
    const message = current.getStore();
    // The store follows callbacks an action scheduled (a timer, setImmediate): only an action still at work answers first.
    const unanswered = message !== undefined && (message === this.#running || this.#working?.has(message) === true);
    if (unanswered && !isAnswer(message) && !this.#answeredEarly?.has(message)) this.#leaveAfter = message;
    else this.#leave();
  }

  /** The `help` entries of this agent's actions (denied ones left out). */
  describeActions(actionName?: string): Record<string, HelpEntry> {
    const entries: Record<string, HelpEntry> = {};
    for (const spec of actionsOf(Object.getPrototypeOf(this)).values()) {
      if (spec.access === ACCESS_DENIED || (actionName !== undefined && spec.name !== actionName)) continue;
      entries[spec.name] = spec.help;
    }
    return entries;
  }

  // ---- watching what arrives ------------------------------------------------

  /** Calls `listener` with every message that reaches this agent, answers included. */
  on(event: "message", listener: (message: Message) => void): this {
    if (event !== "message") throw new TypeError(`an agent emits only "message", not "${String(event)}"`);
    (this.#listeners ??= new Set()).add(listener);
    return this;
  }

  off(event: "message", listener: (message: Message) => void): this {
    this.#listeners?.delete(listener);
    return this;
  }

  /** Every message that reaches this agent from now on, as an async iterator; ends when the agent leaves. */
  messages(): AsyncIterableIterator<Message> {
    return new MessageStream(this, (end) => (this.#onDetach ??= new Set()).add(end));
  }

  // ---- callbacks an agent may override ------------------------------------

  /** Called once the agent is in the space and may send. */
  afterAdd(): unknown {
    return undefined;
  }
  /** Called before the agent leaves the space; it may still send. */
  beforeRemove(): unknown {
    return undefined;
  }
  /** Called before each action a message invokes. */
  beforeAction(_message: Message): unknown {
    return undefined;
  }
  /** Called after each action, with its value or error, before the answer is sent. */
  afterAction(_message: Message, _value: unknown, _error: unknown): unknown {
    return undefined;
  }
  /** Receives the value answering a plain `send`. */
  handleActionValue(_value: unknown): unknown {
    return undefined;
  }
  /** Receives the error answering a plain `send`. By default it is reported as a warning, so that none goes unseen. */
  handleActionError(error: unknown): unknown {
    if (this.#link) this.#link.unhandledAnswer(error);
    else console.warn(`[agentspace] agent "${this.id}" got an error answer it does not handle: ${describeError(error)}`);
    return undefined;
  }
  /** Decides on each message to an `ACCESS_REQUESTED` action. Denies by default. */
  requestPermission(_message: Message): boolean | Promise<boolean> {
    return false;
  }

  // ---- the side spaces drive ----------------------------------------------

  [ATTACH](link: AgentLink): void {
    this.#link = link;
  }

  [DETACH](reason: Error): void {
    for (const gathering of this.#gathers?.values() ?? []) gathering.finish();
    for (const end of this.#onDetach ?? []) end();
    this.#onDetach = undefined;
    this.#pending?.rejectAll(reason);
    this.#link = undefined;
  }

  [RECEIVE](message: Message): boolean {
    if (this.#listeners) for (const listener of this.#listeners) listener(message);
    if (isAnswer(message)) {
      const ok = message.action.name === RESPONSE;
      const outcome = ok ? message.action.args?.value : errorFromWire(message.action.args);
      // Answers to requests never wait in the mailbox.
      if (this.#pending?.settle(message.meta.parent_id, message.from, ok, outcome) === true) return false;
      const gathering = this.#gathers?.get(message.meta.parent_id!);
      if (gathering) {
        gathering.take(message.from, ok, outcome);
        return false;
      }
      if (this.#gathered?.has(message.meta.parent_id!)) return false; // late, for a gather that ended
      // Nobody overrides handleActionValue: skip the mailbox (most of a pipelined sender's load).
      return !(ok && this.handleActionValue === Agent.prototype.handleActionValue);
    }
    // Its own broadcast, when it asked not to hear them.
    return !(message.to === BROADCAST && message.from === this.id && !this.receiveOwnBroadcasts);
  }

  /** Settles once every action it started (and its answer) is done: what a live reload waits for. */
  [SETTLED](): Promise<void> {
    return this.#inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#idle = resolve));
  }

  [PEER_GONE](peerId: string, reason: Error): void {
    this.#pending?.rejectTo(peerId, reason);
  }

  [WANTS_VALUE](sent: Message, copy = false): boolean {
    return (
      (this.#listeners !== undefined && this.#listeners.size > 0) ||
      this.handleActionValue !== Agent.prototype.handleActionValue ||
      this.#requests?.has(sent) === true ||
      // A copy (it went round through the router to a thread-mate not yet local) is asked by id; the very message
      // never is, since hashing every answered id cost a tenth of a pipelined sender's run.
      (copy && this.#pending?.awaits(sent.meta.id, sent.to) === true) ||
      this.#gathers?.has(sent.meta.id) === true
    );
  }

  // ---- taking a message -----------------------------------------------------

  [PROCESS](message: Message): void | Promise<void> {
    if (isAnswer(message)) return this.#handleAnswer(message);
    const spec = this.#actionFor(message);
    if (spec === undefined) return; // a broadcast this agent has no action for
    const tracing = this.#link?.tracing;
    if (tracing !== undefined) (this.#spans ??= new Map()).set(message, { tracing, span: tracing.handling(message, this.id, this.constructor.name) });
    if (spec instanceof Error) return this.#answer(message, false, spec);
    let gate: MaybePromise<unknown>;
    try {
      gate = this.#gate(message, spec);
    } catch (error) {
      return this.#answer(message, false, error);
    }
    if (!isPromise(gate)) return this.#invoke(message, spec);
    const passed = gate.then(
      () => this.#invoke(message, spec),
      (error: unknown) => this.#answer(message, false, error),
    );
    this.#inFlight++;
    this.#link?.working(1);
    const settled = this.#settledOne();
    passed.then(settled, settled);
    return passed;
  }

  /** What runs as each async action (or gate) settles: one function per agent, made at its first. */
  #settledOne(): () => void {
    return (this.#oneSettled ??= () => {
      this.#link?.working(-1);
      if (--this.#inFlight === 0 && this.#idle) {
        this.#idle();
        this.#idle = undefined;
      }
    });
  }

  #actionFor(message: Message): ActionSpec | Error | undefined {
    const name = message.action.name;
    const spec = actionsOf(Object.getPrototypeOf(this)).get(name) ?? builtinActions.get(name);
    if (!spec) {
      // A broadcast goes past agents without the action, unless its sender gathers every answer.
      if (message.to === BROADCAST && (!answersAlways(message) || message.from === this.id)) return undefined;
      return new ActionNotFoundError(`"${name}" not found on "${this.id}"`);
    }
    if (spec.access === ACCESS_DENIED || (spec.debugOnly && !this.#link?.debug)) {
      return new PermissionDeniedError(`"${this.id}.${name}" not permitted`);
    }
    return spec;
  }

  /** Permission and beforeAction: what must pass before the action starts. */
  #gate(message: Message, spec: ActionSpec): MaybePromise<unknown> {
    const plainBefore = this.beforeAction === Agent.prototype.beforeAction;
    if (spec.access !== ACCESS_REQUESTED && plainBefore) return undefined; // the common case, kept free of closures
    const permitted = spec.access === ACCESS_REQUESTED ? current.run(message, () => this.requestPermission(message)) : true;
    return andThen(permitted, (ok) => {
      if (!ok) throw new PermissionDeniedError(`"${this.id}.${spec.name}" not permitted`);
      if (plainBefore) return undefined;
      return current.run(message, () => this.beforeAction(message));
    });
  }

  #invoke(message: Message, spec: ActionSpec): void | Promise<void> {
    let result: unknown;
    // Timed only while the space wants the durations (see telemetry/durations.ts): a clock read costs ~0.1 µs.
    const durations = this.#link?.durations;
    const started = durations === undefined ? 0 : performance.now();
    try {
      const args = message.action.args ?? {};
      this.#running = message;
      const traced = this.#spans?.get(message);
      result = spec.offload
        ? this.#linked().compute({ kind: "action", action: spec.name, args })
        : traced === undefined
          ? current.run(message, callAction, spec, this, args)
          : traced.tracing.within(traced.span, () => current.run(message, callAction, spec, this, args));
    } catch (error) {
      durations?.recordSince(spec.name, started);
      return this.#complete(message, false, error);
    } finally {
      this.#running = undefined;
    }
    if (!isPromise(result)) {
      durations?.recordSince(spec.name, started);
      return this.#complete(message, true, result);
    }
    (this.#working ??= new Set()).add(message);
    const done = result.then(
      (value) => {
        durations?.recordSince(spec.name, started);
        return this.#complete(message, true, value);
      },
      (error: unknown) => {
        durations?.recordSince(spec.name, started);
        return this.#complete(message, false, error);
      },
    );
    this.#inFlight++;
    this.#link?.working(1);
    const settled = this.#settledOne();
    done.then(settled, settled);
    // Interleaved by default: the next message may start while this one awaits.
    return isSerial(this) ? done : undefined;
  }

  #complete(message: Message, ok: boolean, outcome: unknown): void | Promise<void> {
    if (this.afterAction === Agent.prototype.afterAction) return this.#answer(message, ok, outcome);
    let after: unknown;
    try {
      after = current.run(message, () => this.afterAction(message, ok ? outcome : undefined, ok ? undefined : outcome));
    } catch (error) {
      return this.#answer(message, false, error);
    }
    if (!isPromise(after)) return this.#answer(message, ok, outcome);
    return after.then(
      () => this.#answer(message, ok, outcome),
      (error: unknown) => this.#answer(message, false, error),
    );
  }

  #handleAnswer(message: Message): void | Promise<void> {
    const ok = message.action.name === RESPONSE;
    const outcome = ok ? message.action.args?.value : errorFromWire(message.action.args);
    const report = (error: unknown) => this.#link?.reportError(error);
    try {
      const handled = current.run(message, handleOutcome, this, ok, outcome);
      if (isPromise(handled)) {
        const done = handled.then(
          () => this.#writtenAfterAnswer(true),
          (error: unknown) => {
            report(error);
            this.#writtenAfterAnswer(false);
          },
        );
        return isSerial(this) ? done : undefined;
      }
      this.#writtenAfterAnswer(true);
    } catch (error) {
      report(error);
      this.#writtenAfterAnswer(false);
    }
  }

  /** A durable agent's state after it handled an answer: written, or put back when the handler threw. */
  #writtenAfterAnswer(ok: boolean): void {
    const refusal = this.#link?.written(undefined, ok);
    if (refusal) this.#link?.reportError(refusal);
  }

  /** Sends the one answer a message gets: the first of respondWith, raiseWith, or the action's outcome. */
  #answer(message: Message, ok: boolean, outcome: unknown): void {
    this.#working?.delete(message);
    if (this.#spans !== undefined) this.#spanEnds(message, ok, outcome);
    if (this.#answeredEarly?.has(message)) return;
    try {
      const link = this.#link;
      if (!link) return;
      // A durable agent's state is written before its answer leaves (or put back, when the action failed).
      const refusal = link.written(message, ok);
      if (refusal) {
        ok = false;
        outcome = refusal;
      }
      if (ok && link.valueUnseen?.(message)) {
        // Nobody would see the value: a primitive is not even built; an object is, since its failing to clone must be told.
        if ((typeof outcome === "object" && outcome !== null) || typeof outcome === "function") {
          const answer = answerTo(message, this.id, ok, outcome, link.json);
          if (answer.action.name !== RESPONSE) {
            link.post(answer);
            return;
          }
        }
        link.unsent();
        return;
      }
      link.post(answerTo(message, this.id, ok, outcome, link.json));
    } finally {
      if (this.#leaveAfter === message) this.#leave();
    }
  }

  /** The span of `message` ends as its answer leaves (the first answer, when respondWith/raiseWith answered early). */
  #spanEnds(message: Message, ok: boolean, outcome: unknown): void {
    const traced = this.#spans!.get(message);
    if (traced === undefined) return;
    this.#spans!.delete(message);
    traced.tracing.ended(traced.span, ok, outcome);
  }

  /** Asks the space, once, to remove this agent for good. */
  #leave(): void {
    this.#leaveAfter = undefined;
    if (this.#leaving || !this.#link) return;
    this.#leaving = true;
    this.#link.shutdown();
  }

  #answerEarly(message: Message, ok: boolean, outcome: unknown): void {
    this.#answer(message, ok, outcome);
    (this.#answeredEarly ??= new WeakSet()).add(message);
  }

  #answerable(method: string): Message {
    const message = current.getStore();
    if (!message || isAnswer(message)) {
      throw new Error(`${method}() must be called while handling an action's message (see currentMessage())`);
    }
    return message;
  }

  #linked(): AgentLink {
    if (!this.#link) throw new AgentNotFoundError(`agent "${this.id}" is not in a space: add it with space.add or space.addForeground`);
    return this.#link;
  }

  /** The message as it leaves: its id and sender set, nothing but its own fields. */
  #built(message: OutgoingMessage, id: string, link: AgentLink): Message {
    const parentId = message.meta?.parent_id;
    const { name, args } = message.action;
    if (link.json && args !== undefined) assertJsonValue(args, "args");
    return {
      meta: parentId === undefined ? { id } : { id, parent_id: parentId },
      from: this.id,
      to: message.to,
      action: args === undefined ? { name } : { name, args },
    };
  }
}

// Called by AsyncLocalStorage.run with their arguments: no closure made per message.
function callAction(spec: ActionSpec, agent: Agent, args: Record<string, unknown>): unknown {
  return spec.method.call(agent, args);
}

function handleOutcome(agent: Agent, ok: boolean, outcome: unknown): unknown {
  return ok ? agent.handleActionValue(outcome) : agent.handleActionError(outcome);
}

/** A serial agent takes its next message once its action has settled; a durable one is always serial (its state is written per message). */
function isSerial(agent: Agent): boolean {
  const Cls = agent.constructor as { serial?: boolean; durable?: boolean };
  return Cls.serial === true || Cls.durable === true;
}

function checkOutgoing(message: OutgoingMessage): void {
  validateOutgoing(message);
  if (message.action.args !== undefined) assertCloneable(message.action.args);
}
