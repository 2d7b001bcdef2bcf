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
 * An agent's own state, as the runtime keeps it: in one object of one class
 * rather than in private fields of the agent, whose instances have as many
 * shapes as there are agent classes. Each of these was a property load on a
 * megamorphic site (with three other agent classes through the same code, a
 * LocalSpace ping-pong ran at 0.6× its speed).
 */
class AgentState {
  link: AgentLink | undefined = undefined;
  /**
   * The messages it sent as requests, by identity: whether an answer is
   * wanted is asked of the very message sent (in its own thread), and an
   * identity lookup costs less than hashing every sent id. Weak: a message
   * nobody holds any more is gone from it too.
   */
  requests: WeakSet<Message> | undefined = undefined;
  /** Its requests awaiting answers: made at its first request (most agents of a swarm make none). */
  pending: PendingRequests | undefined = undefined;
  /** Broadcast requests gathering answers, by message id. */
  gathers: Map<string, Gathering> | undefined = undefined;
  /** Gathers that ended, the last MAX_ENDED_GATHERS of them: answers coming late are dropped, not handled as a plain send's. */
  gathered: Set<string> | undefined = undefined;
  /** Messages answered early by respondWith/raiseWith: their action's outcome is not sent again. */
  answeredEarly: WeakSet<Message> | undefined = undefined;
  listeners: Set<(message: Message) => void> | undefined = undefined;
  onDetach: Set<() => void> | undefined = undefined;
  /** The action running now, synchronously; and the async ones not yet answered: shutdown() from one waits for its answer. */
  running: Message | undefined = undefined;
  working: Set<Message> | undefined = undefined;
  /** shutdown() was called while handling this message: the agent leaves once it is answered. */
  leaveAfter: Message | undefined = undefined;
  leaving = false;
  /** Actions started and not yet answered (and gates not yet passed): a reload waits for them. */
  inFlight = 0;
  idle: (() => void) | undefined = undefined;
  /** The CONSUMER span of each message being handled, while an SDK traces messages (see telemetry/tracing.ts). */
  spans: Map<Message, { tracing: MessageTracing; span: Span }> | undefined = undefined;
  /** Made at its first async action (see Agent's #settledOne). */
  oneSettled: (() => void) | undefined = undefined;
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

  /** Its state (see AgentState). */
  readonly #s = new AgentState();

  constructor(id: string, _init?: unknown) {
    this.id = id;
  }

  // ---- sending ----------------------------------------------------------

  /** Sends a message and returns its id. Its answer goes to `handleActionValue`/`handleActionError`. */
  send(message: OutgoingMessage): string {
    const s = this.#s;
    checkOutgoing(message);
    const id = newMessageId();
    const link = Agent.#linked(this, s);
    const sent = Agent.#built(this, message, id, link);
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
      const link = Agent.#linked(this, this.#s);
      const id = newMessageId();
      const pending = (this.#s.pending ??= new PendingRequests());
      const answer = pending.add(id, message.to, options.timeoutMs ?? link.requestTimeoutMs, options.signal);
      try {
        const sent = Agent.#built(this, message, id, link);
        // Before it is posted: the host asks at once whether its answer is wanted.
        (this.#s.requests ??= new WeakSet()).add(sent);
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
      const link = Agent.#linked(this, this.#s);
      const timeoutMs = checkTimeoutMs(options.timeoutMs ?? (options.expect ? link.requestTimeoutMs : GATHER_LISTEN_MS), "timeoutMs");
      const id = newMessageId();
      const gathers = (this.#s.gathers ??= new Map());
      const gathering = new Gathering<T>({ expect: options.expect, timeoutMs }, () => {
        gathers.delete(id);
        const ended = (this.#s.gathered ??= new Set());
        ended.add(id);
        if (ended.size > MAX_ENDED_GATHERS) ended.delete(ended.values().next().value!);
      });
      gathers.set(id, gathering as Gathering);
      const built = Agent.#built(this, message, id, link);
      const sent: Message = { ...built, meta: { ...built.meta, [ANSWER_KEY]: ALWAYS } as Message["meta"] };
      // Before it is posted: each receiver's host asks whether its answer is wanted.
      (this.#s.requests ??= new WeakSet()).add(sent);
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
      return Agent.#linked(this, this.#s).compute({ kind: "task", module: String(task), input }) as Promise<T>;
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
    const unanswered = message !== undefined && (message === this.#s.running || this.#s.working?.has(message) === true);
    if (unanswered && !isAnswer(message) && !this.#s.answeredEarly?.has(message)) this.#s.leaveAfter = message;
    else Agent.#leave(this.#s);
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
    (this.#s.listeners ??= new Set()).add(listener);
    return this;
  }

  off(event: "message", listener: (message: Message) => void): this {
    this.#s.listeners?.delete(listener);
    return this;
  }

  /** Every message that reaches this agent from now on, as an async iterator; ends when the agent leaves. */
  messages(): AsyncIterableIterator<Message> {
    return new MessageStream(this, (end) => (this.#s.onDetach ??= new Set()).add(end));
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
    if (this.#s.link) this.#s.link.unhandledAnswer(error);
    else console.warn(`[agentspace] agent "${this.id}" got an error answer it does not handle: ${describeError(error)}`);
    return undefined;
  }
  /** Decides on each message to an `ACCESS_REQUESTED` action. Denies by default. */
  requestPermission(_message: Message): boolean | Promise<boolean> {
    return false;
  }

  // ---- the side spaces drive ----------------------------------------------

  [ATTACH](link: AgentLink): void {
    this.#s.link = link;
  }

  [DETACH](reason: Error): void {
    for (const gathering of this.#s.gathers?.values() ?? []) gathering.finish();
    for (const end of this.#s.onDetach ?? []) end();
    this.#s.onDetach = undefined;
    this.#s.pending?.rejectAll(reason);
    this.#s.link = undefined;
  }

  [RECEIVE](message: Message): boolean {
    const s = this.#s;
    if (s.listeners) for (const listener of s.listeners) listener(message);
    if (isAnswer(message)) {
      const ok = message.action.name === RESPONSE;
      const outcome = ok ? message.action.args?.value : errorFromWire(message.action.args);
      // Answers to requests never wait in the mailbox.
      if (s.pending?.settle(message.meta.parent_id, message.from, ok, outcome) === true) return false;
      const gathering = s.gathers?.get(message.meta.parent_id!);
      if (gathering) {
        gathering.take(message.from, ok, outcome);
        return false;
      }
      if (s.gathered?.has(message.meta.parent_id!)) return false; // late, for a gather that ended
      // Nobody overrides handleActionValue: skip the mailbox (most of a pipelined sender's load).
      return !(ok && this.handleActionValue === Agent.prototype.handleActionValue);
    }
    // Its own broadcast, when it asked not to hear them.
    return !(message.to === BROADCAST && message.from === this.id && !this.receiveOwnBroadcasts);
  }

  /** Settles once every action it started (and its answer) is done: what a live reload waits for. */
  [SETTLED](): Promise<void> {
    return this.#s.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#s.idle = resolve));
  }

  [PEER_GONE](peerId: string, reason: Error): void {
    this.#s.pending?.rejectTo(peerId, reason);
  }

  [WANTS_VALUE](sent: Message, copy = false): boolean {
    const s = this.#s;
    return (
      (s.listeners !== undefined && s.listeners.size > 0) ||
      this.handleActionValue !== Agent.prototype.handleActionValue ||
      s.requests?.has(sent) === true ||
      // A copy (it went round through the router to a thread-mate not yet local) is asked by id; the very message
      // never is, since hashing every answered id cost a tenth of a pipelined sender's run.
      (copy && s.pending?.awaits(sent.meta.id, sent.to) === true) ||
      s.gathers?.has(sent.meta.id) === true
    );
  }

  // ---- taking a message -----------------------------------------------------

  [PROCESS](message: Message): void | Promise<void> {
    const s = this.#s;
    if (isAnswer(message)) return Agent.#handleAnswer(this, s, message);
    const spec = Agent.#actionFor(this, s, message);
    if (spec === undefined) return; // a broadcast this agent has no action for
    const tracing = s.link?.tracing;
    if (tracing !== undefined) (s.spans ??= new Map()).set(message, { tracing, span: tracing.handling(message, this.id, this.constructor.name) });
    if (spec instanceof Error) return Agent.#answer(this, s, message, false, spec);
    let gate: MaybePromise<unknown>;
    try {
      gate = Agent.#gate(this, message, spec);
    } catch (error) {
      return Agent.#answer(this, s, message, false, error);
    }
    if (!isPromise(gate)) return Agent.#invoke(this, s, message, spec);
    const passed = gate.then(
      () => Agent.#invoke(this, s, message, spec),
      (error: unknown) => Agent.#answer(this, s, message, false, error),
    );
    s.inFlight++;
    s.link?.working(1);
    const settled = Agent.#settledOne(s);
    passed.then(settled, settled);
    return passed;
  }

  /** What runs as each async action (or gate) settles: one function per agent, made at its first. */
  static #settledOne(s: AgentState): () => void {
    return (s.oneSettled ??= () => {
      s.link?.working(-1);
      if (--s.inFlight === 0 && s.idle) {
        s.idle();
        s.idle = undefined;
      }
    });
  }

  static #actionFor(agent: Agent, s: AgentState, message: Message): ActionSpec | Error | undefined {
    const name = message.action.name;
    const spec = actionsOf(Object.getPrototypeOf(agent)).get(name) ?? builtinActions.get(name);
    if (!spec) {
      // A broadcast goes past agents without the action, unless its sender gathers every answer.
      if (message.to === BROADCAST && (!answersAlways(message) || message.from === agent.id)) return undefined;
      return new ActionNotFoundError(`"${name}" not found on "${agent.id}"`);
    }
    if (spec.access === ACCESS_DENIED || (spec.debugOnly && !s.link?.debug)) {
      return new PermissionDeniedError(`"${agent.id}.${name}" not permitted`);
    }
    return spec;
  }

  /** Permission and beforeAction: what must pass before the action starts. */
  static #gate(agent: Agent, message: Message, spec: ActionSpec): MaybePromise<unknown> {
    const plainBefore = agent.beforeAction === Agent.prototype.beforeAction;
    if (spec.access !== ACCESS_REQUESTED && plainBefore) return undefined; // the common case, kept free of closures
    const permitted = spec.access === ACCESS_REQUESTED ? current.run(message, () => agent.requestPermission(message)) : true;
    return andThen(permitted, (ok) => {
      if (!ok) throw new PermissionDeniedError(`"${agent.id}.${spec.name}" not permitted`);
      if (plainBefore) return undefined;
      return current.run(message, () => agent.beforeAction(message));
    });
  }

  static #invoke(agent: Agent, s: AgentState, message: Message, spec: ActionSpec): void | Promise<void> {
    let result: unknown;
    // Timed only while the space wants the durations (see telemetry/durations.ts): a clock read costs ~0.1 µs.
    const durations = s.link?.durations;
    const started = durations === undefined ? 0 : performance.now();
    try {
      const args = message.action.args ?? {};
      s.running = message;
      const traced = s.spans?.get(message);
      result = spec.offload
        ? Agent.#linked(agent, s).compute({ kind: "action", action: spec.name, args })
        : traced === undefined
          ? current.run(message, callAction, spec, agent, args)
          : traced.tracing.within(traced.span, () => current.run(message, callAction, spec, agent, args));
    } catch (error) {
      durations?.recordSince(spec.name, started);
      return Agent.#complete(agent, s, message, false, error);
    } finally {
      s.running = undefined;
    }
    if (!isPromise(result)) {
      durations?.recordSince(spec.name, started);
      return Agent.#complete(agent, s, message, true, result);
    }
    (s.working ??= new Set()).add(message);
    const done = result.then(
      (value) => {
        durations?.recordSince(spec.name, started);
        return Agent.#complete(agent, s, message, true, value);
      },
      (error: unknown) => {
        durations?.recordSince(spec.name, started);
        return Agent.#complete(agent, s, message, false, error);
      },
    );
    s.inFlight++;
    s.link?.working(1);
    const settled = Agent.#settledOne(s);
    done.then(settled, settled);
    // Interleaved by default: the next message may start while this one awaits.
    return isSerial(agent) ? done : undefined;
  }

  static #complete(agent: Agent, s: AgentState, message: Message, ok: boolean, outcome: unknown): void | Promise<void> {
    if (agent.afterAction === Agent.prototype.afterAction) return Agent.#answer(agent, s, message, ok, outcome);
    let after: unknown;
    try {
      after = current.run(message, () => agent.afterAction(message, ok ? outcome : undefined, ok ? undefined : outcome));
    } catch (error) {
      return Agent.#answer(agent, s, message, false, error);
    }
    if (!isPromise(after)) return Agent.#answer(agent, s, message, ok, outcome);
    return after.then(
      () => Agent.#answer(agent, s, message, ok, outcome),
      (error: unknown) => Agent.#answer(agent, s, message, false, error),
    );
  }

  static #handleAnswer(agent: Agent, s: AgentState, message: Message): void | Promise<void> {
    const ok = message.action.name === RESPONSE;
    const outcome = ok ? message.action.args?.value : errorFromWire(message.action.args);
    const report = (error: unknown) => s.link?.reportError(error);
    try {
      const handled = current.run(message, handleOutcome, agent, ok, outcome);
      if (isPromise(handled)) {
        const done = handled.then(
          () => Agent.#writtenAfterAnswer(s, true),
          (error: unknown) => {
            report(error);
            Agent.#writtenAfterAnswer(s, false);
          },
        );
        return isSerial(agent) ? done : undefined;
      }
      Agent.#writtenAfterAnswer(s, true);
    } catch (error) {
      report(error);
      Agent.#writtenAfterAnswer(s, false);
    }
  }

  /** A durable agent's state after it handled an answer: written, or put back when the handler threw. */
  static #writtenAfterAnswer(s: AgentState, ok: boolean): void {
    const refusal = s.link?.written(undefined, ok);
    if (refusal) s.link?.reportError(refusal);
  }

  /** Sends the one answer a message gets: the first of respondWith, raiseWith, or the action's outcome. */
  static #answer(agent: Agent, s: AgentState, message: Message, ok: boolean, outcome: unknown): void {
    s.working?.delete(message);
    if (s.spans !== undefined) Agent.#spanEnds(s, message, ok, outcome);
    if (s.answeredEarly?.has(message)) return;
    try {
      const link = s.link;
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
          const answer = answerTo(message, agent.id, ok, outcome, link.json);
          if (answer.action.name !== RESPONSE) {
            link.post(answer);
            return;
          }
        }
        link.unsent();
        return;
      }
      link.post(answerTo(message, agent.id, ok, outcome, link.json));
    } finally {
      if (s.leaveAfter === message) Agent.#leave(s);
    }
  }

  /** The span of `message` ends as its answer leaves (the first answer, when respondWith/raiseWith answered early). */
  static #spanEnds(s: AgentState, message: Message, ok: boolean, outcome: unknown): void {
    const traced = s.spans!.get(message);
    if (traced === undefined) return;
    s.spans!.delete(message);
    traced.tracing.ended(traced.span, ok, outcome);
  }

  /** Asks the space, once, to remove this agent for good. */
  static #leave(s: AgentState): void {
    s.leaveAfter = undefined;
    if (s.leaving || !s.link) return;
    s.leaving = true;
    s.link.shutdown();
  }

  #answerEarly(message: Message, ok: boolean, outcome: unknown): void {
    Agent.#answer(this, this.#s, message, ok, outcome);
    (this.#s.answeredEarly ??= new WeakSet()).add(message);
  }

  #answerable(method: string): Message {
    const message = current.getStore();
    if (!message || isAnswer(message)) {
      throw new Error(`${method}() must be called while handling an action's message (see currentMessage())`);
    }
    return message;
  }

  static #linked(agent: Agent, s: AgentState): AgentLink {
    if (!s.link) throw new AgentNotFoundError(`agent "${agent.id}" is not in a space: add it with space.add or space.addForeground`);
    return s.link;
  }

  /** The message as it leaves: its id and sender set, nothing but its own fields. */
  static #built(agent: Agent, message: OutgoingMessage, id: string, link: AgentLink): Message {
    const parentId = message.meta?.parent_id;
    const { name, args } = message.action;
    if (link.json && args !== undefined) assertJsonValue(args, "args");
    return {
      meta: parentId === undefined ? { id } : { id, parent_id: parentId },
      from: agent.id,
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
