import { WANTS_VALUE, type AgentLink, type LinkedAgent } from "../agent-link.js";
import { markedFor, wantsErrorsOnly } from "../answer-mark.js";
import { answerTo } from "../answer.js";
import { AskerIndex } from "../asker-index.js";
import type { ComputeRequest } from "../compute-request.js";
import { mayCall, type DebugMode } from "../debug-gate.js";
import { AgentNotFoundError, StateFencedError, describeError, handsBack, type LoopFailedError, withoutStack } from "../errors.js";
import { BROADCAST, ERROR, isAnswer, type Message } from "../message.js";
import { ERRORS, SENT, WORKING } from "./counters.js";
import { HostedAgent, type HostServices, type Placing } from "./hosted-agent.js";
import { RepeatedErrors } from "./repeats.js";
import { HostDurations, type ClassDurations } from "../telemetry/durations.js";
import { activeTracing, type MessageTracing } from "../telemetry/tracing.js";

/** What a host is told of where it runs. */
export interface HostOptions {
  /**
   * Where a message goes that is for no agent of this host (or for every
   * agent): the router (the space's own thread), or the port to it (a
   * worker). `from` is the sending agent (none for what the host answers itself).
   */
  uplink(message: Message, from?: HostedAgent): void;
  /** Thread-mates hand messages to each other here. False on a broker, where every message goes through it. */
  localDelivery: boolean;
  /**
   * Plain sends whose value the sender would not see leave the host marked
   * errors-only (`meta.answer`), so that no `[response]` comes back for them:
   * `"always"` on a broker, `"unwatched"` while no `message` listener would see the answer.
   */
  errorsOnly: "always" | "unwatched";
  /** A `[response]` to a send marked errors-only is not sent at all. False on a broker, where the answer acknowledges the delivery. */
  dropUnwantedAnswers: boolean;
  debug: DebugMode;
  /** Messages travel as JSON (a broker space): see `AgentLink.json`. */
  json: boolean;
  requestTimeoutMs: number;
  /** Runs `request` for `agent` on the space's CPU pool. */
  compute(agent: HostedAgent, request: ComputeRequest): Promise<unknown>;
  /** Whether anyone watches the messages (a `message` listener on the space). */
  watched(): boolean;
  /** Sees, while watched, each message that went from agent to agent inside this host (the router sees the rest). */
  observe(message: Message): void;
  /** A loop or timer of `id` threw: its supervisor decides what follows. */
  failed(id: string, error: LoopFailedError): void;
  /** `id` called `shutdown()`. */
  shutdown(id: string): void;
  /** A callback failed with nobody to answer. */
  reportError(error: unknown): void;
  /** A message that waited for agent `message.to` as it passivated: back to the router, to wait for its next activation. */
  handBack(message: Message): void;
}

/**
 * The agents of one thread, whichever thread it is: the space's own
 * (LocalSpace, foreground agents) or a worker's. It holds each agent's
 * mailbox and instance, and moves messages between its agents itself (never
 * cloned, never through another thread); the rest goes up to the router.
 *
 * The fence: in a worker, the space learns of an agent before its host
 * does, so a thread-mate's message to it may go round through the router.
 * Messages from one sender must never overtake each other, so the switch
 * to direct delivery takes two legs. `connected` (the router now passes its
 * messages on): from here thread-mates hold what they send it, in its
 * mailbox's fence, and say so up the same stream (`local`). `direct` (the
 * router has passed back everything they sent up before that): what was
 * held is delivered behind it, and thread-mates deliver directly from then on.
 */
export class AgentHost {
  #options: HostOptions;
  #agents = new Map<string, HostedAgent>();
  /** Who sent an action to whom inside this host: a departure is told to those askers only. */
  #askers = new AskerIndex();
  /** Error answers its agents do not handle, said without the flood. */
  #repeats = new RepeatedErrors((error) => this.#options.reportError(error));
  #services: HostServices;
  /** Thread-mates' actions that came round through the router: copies, whose senders know them by id only (see valueUnseen). */
  #roundabout: WeakSet<Message> | undefined;
  /** How long its agents' actions take, by class: timed once the space asks (see telemetry/durations.ts). */
  readonly durations = new HostDurations();

  constructor(options: HostOptions) {
    this.#options = options;
    this.#services = {
      home: this,
      link: (agent, instance) => this.#link(agent, instance),
      refuse: (message, id, error) => this.#refuse(message, id, error),
      failed: (id, error) => {
        // Thread-mates waiting on it learn at once; its supervisor decides what follows.
        this.interrupted(id, error);
        options.failed(id, error);
      },
      reportError: options.reportError,
    };
  }

  get size(): number {
    return this.#agents.size;
  }

  get(id: string): HostedAgent | undefined {
    return this.#agents.get(id);
  }

  /** A place for agent `id`: its mailbox holds what comes until an instance starts. */
  place(placing: Placing): HostedAgent {
    const agent = new HostedAgent(placing, this.#services);
    this.#agents.set(placing.id, agent);
    agent.durable?.releaseTo((held, refusal) => this.#released(agent, held, refusal));
    return agent;
  }

  /**
   * What a durable agent sent while its state waited to be written: sent
   * now, in order. Refused, nothing it did since is kept: its answers become
   * the refusal, the rest is dropped, and the agent stops.
   */
  #released(agent: HostedAgent, held: Message[], refusal: StateFencedError | undefined): void {
    if (!refusal) {
      for (const message of held) this.post(agent, message);
      return;
    }
    for (const message of held) {
      const parent = message.meta.parent_id;
      if (!isAnswer(message) || parent === undefined) continue;
      const request: Message = { meta: { id: parent }, from: message.to, to: agent.id, action: { name: "[refused]" } };
      this.post(agent, answerTo(request, agent.id, false, refusal));
    }
    this.#options.reportError(refusal);
    this.#options.shutdown(agent.id);
  }

  /** Stops `id` for good (see HostedAgent.stop), takes it out, and tells the agents here that asked it something. */
  async stop(id: string, reason: Error, timeoutMs: number): Promise<string[]> {
    const agent = this.#agents.get(id);
    if (!agent) return [];
    try {
      return await agent.stop(reason, timeoutMs);
    } finally {
      if (this.#agents.get(id) === agent) this.#agents.delete(id);
      // Passivated, it comes back for what its askers sent: they are not told it left.
      this.interrupted(id, reason, !handsBack(reason));
      this.#askers.forgetAsker(id);
    }
  }

  /** Takes out `id`, which has no instance (it never started): what waits for it is refused with `reason`. */
  drop(id: string, reason: Error): void {
    const agent = this.#agents.get(id);
    if (!agent || agent.instance) return;
    this.#agents.delete(id);
    agent.close(reason);
    this.interrupted(id, reason);
    this.#askers.forgetAsker(id);
  }

  /** `id`'s instance failed or left: the agents here waiting on it are told. */
  interrupted(id: string, reason: Error, tell = true): void {
    for (const asker of this.#askers.takeAskersOf(id)) {
      if (asker === id) continue;
      const agent = this.#agents.get(asker);
      if (!agent) continue;
      // The index forgot the ask: a later action to the same id must be recorded again.
      if (agent.lastAskedHere === id) agent.lastAskedHere = undefined;
      if (tell) agent.peerGone(id, reason);
    }
  }

  /** From now on thread-mates' messages to `id` stay here, held until `direct` (the fence, see above). */
  connected(id: string): boolean {
    const agent = this.#agents.get(id);
    agent?.fence();
    return agent !== undefined;
  }

  /** Thread-mates' messages to `id` that went up have all come back: it takes what was held, and thread-mates deliver directly. */
  direct(id: string): void {
    this.#agents.get(id)?.openFence();
  }

  /** A message from outside the host, for one of its agents. */
  deliver(message: Message): void {
    const agent = this.#agents.get(message.to);
    if (agent) {
      // A thread-mate's action that went round through the router (its receiver not yet local): a copy of what was sent.
      if (!agent.local && !isAnswer(message) && this.#agents.has(message.from)) (this.#roundabout ??= new WeakSet()).add(message);
      return agent.deliver(message);
    }
    // Routed here just as its agent left this thread.
    if (isAnswer(message)) return;
    this.#options.uplink(answerTo(message, message.to, false, withoutStack(() => new AgentNotFoundError(`agent "${message.to}" has left`))));
  }

  /** Sends what `from` posts: to a thread-mate directly, else up. */
  post(from: HostedAgent, message: Message): void {
    const options = this.#options;
    from.counts[from.at + SENT]++;
    if (message.action.name === ERROR) from.counts[from.at + ERRORS]++;
    // What the debug gate refuses goes up, to be refused where every message leaving a thread is checked.
    const local = options.localDelivery && mayCall(message, from.trusted, options.debug);
    if (message.to === BROADCAST) {
      if (local) for (const agent of this.#agents.values()) if (agent.local || agent.fencing) agent.fromMate(message);
      return options.uplink(message, from);
    }
    const target = local ? this.#agents.get(message.to) : undefined;
    if (target?.local || target?.fencing) {
      // Recorded only where an answer may be awaited (a departure ends the requests waiting on it): a plain send nobody
      // waits on is not, which spares a fork-join's Finish, which tells a fresh agent each time, an index entry per agent.
      if (!isAnswer(message) && from.lastAskedHere !== message.to && from.instance?.[WANTS_VALUE](message) !== false) {
        from.lastAskedHere = message.to;
        this.#askers.asked(from.id, message.to);
      }
      if (options.watched()) options.observe(message);
      return target.fromMate(message);
    }
    options.uplink(this.#marked(from, message), from);
  }

  /** `message` as it leaves the host: marked errors-only when it is a plain send whose value its sender would not see. */
  #marked(from: HostedAgent, message: Message): Message {
    if (this.#options.errorsOnly === "unwatched" && this.#options.watched()) return message;
    return from.instance ? markedFor(message, from.instance) : message;
  }

  /** Agent `id` of this host refuses `message` (a full mailbox, a departure): the answer goes back as any of its answers would. */
  #refuse(message: Message, id: string, error: Error): void {
    // A passivating agent's messages go back up, to wait for its next activation.
    if (handsBack(error)) return this.#options.handBack(message);
    const answer = answerTo(message, id, false, error);
    const sender = this.#options.localDelivery ? this.#agents.get(message.from) : undefined;
    if (!sender?.local && !sender?.fencing) return this.#options.uplink(answer);
    if (this.#options.watched()) this.#options.observe(answer);
    sender.fromMate(answer);
  }

  #link(agent: HostedAgent, instance: LinkedAgent): AgentLink {
    return new HostLink(this, this.#options, agent, instance);
  }

  /** An error answer `id` does not handle: said once, its repeats summarised (see RepeatedErrors). */
  unhandledAnswer(id: string, error: unknown): void {
    const kind = error instanceof Error ? error.name : "Error";
    const fix = 'handle them in handleActionError, or await the request; a space\'s "error" listener takes these lines instead of stderr';
    this.#repeats.report(
      `${id}\0${kind}`,
      () => new Error(`agent "${id}" got an error answer it does not handle: ${describeError(error)} (${fix})`),
      (count, windowMs) =>
        new Error(`agent "${id}" got ${count.toLocaleString("en-US")} more ${kind} answers it does not handle in the last ${windowMs / 1000} s (${fix})`),
    );
  }

  /** Whether the value answering `request` would reach nobody (see AgentLink.valueUnseen). */
  valueUnseen(request: Message): boolean {
    const options = this.#options;
    if (wantsErrorsOnly(request)) return options.dropUnwantedAnswers;
    if (options.watched()) return false;
    const sender = options.localDelivery ? this.#agents.get(request.from) : undefined;
    return sender?.local === true && sender.instance?.[WANTS_VALUE](request, this.#roundabout?.has(request) === true) === false;
  }
}

/**
 * One instance's link to its host: an object of its own per agent, holding
 * four references rather than a closure per method (a swarm has a million).
 */
class HostLink implements AgentLink {
  readonly #host: AgentHost;
  readonly #options: HostOptions;
  readonly #agent: HostedAgent;
  readonly #instance: LinkedAgent;
  #durations: ClassDurations | undefined;

  constructor(host: AgentHost, options: HostOptions, agent: HostedAgent, instance: LinkedAgent) {
    this.#host = host;
    this.#options = options;
    this.#agent = agent;
    this.#instance = instance;
  }

  get requestTimeoutMs(): number {
    return this.#options.requestTimeoutMs;
  }

  get json(): boolean {
    return this.#options.json;
  }

  get debug(): boolean {
    return this.#options.debug !== false;
  }

  get tracing(): MessageTracing | undefined {
    return activeTracing();
  }

  get durations(): ClassDurations | undefined {
    const durations = this.#host.durations;
    if (!durations.timing) return undefined;
    return (this.#durations ??= durations.of(this.#instance.constructor.name));
  }

  post(message: Message): void {
    // A durable agent's messages wait for the state they follow to be written.
    if (this.#agent.durable?.holds(message)) return;
    this.#host.post(this.#agent, message);
  }

  reportError(error: unknown): void {
    this.#options.reportError(error);
  }

  unhandledAnswer(error: unknown): void {
    this.#host.unhandledAnswer(this.#agent.id, error);
  }

  compute(request: ComputeRequest): Promise<unknown> {
    return this.#options.compute(this.#agent, request);
  }

  // The value answering a send would only be dropped on arrival: not built.
  valueUnseen(request: Message): boolean {
    return this.#host.valueUnseen(request);
  }

  unsent(): void {
    this.#agent.counts[this.#agent.at + SENT]++;
  }

  working(delta: 1 | -1): void {
    this.#agent.counts[this.#agent.at + WORKING] += delta;
  }

  written(handled: Message | undefined, ok: boolean): Error | undefined {
    const durable = this.#agent.durable;
    if (!durable || this.#agent.instance !== this.#instance) return undefined;
    return durable.commit(this.#instance, handled, ok);
  }

  shutdown(): void {
    if (this.#agent.instance === this.#instance) this.#options.shutdown(this.#agent.id);
  }
}
