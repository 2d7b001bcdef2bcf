import { EventEmitter } from "eventemitter3";
import { existsSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { ResourceLimits } from "node:worker_threads";
import { nanoid } from "nanoid";
import type { ActionOptions } from "./action.js";
import { isDurable, ownModule, type AgentClass, type InitOf } from "./agent-class.js";
import { Agent, type Handle } from "./agent.js";
import { ComputePool } from "./compute.js";
import type { DebugMode } from "./debug-gate.js";
import { AgentNotFoundError, DuplicateAgentError, PassivatedError, withoutStack } from "./errors.js";
import { expose, features, type Inspector, type InspectorOptions, type ReloadReport, type ReloadTarget } from "./extension.js";
import { createHandle } from "./handle.js";
import { checkHeapRoom } from "./heap-room.js";
import type { StateSink } from "./host/durable-state.js";
import type { MailboxOptions, MailboxPolicy } from "./host/mailbox.js";
import { aftermathText, type Aftermath, type LifecycleEvent } from "./lifecycle.js";
import type { GatherOptions, Gathered } from "./gather.js";
import { agentIdProblem, type Message, type OutgoingMessage } from "./message.js";
import { OwnThread } from "./own-thread.js";
import type { RequestOptions } from "./pending.js";
import type { HostSettings } from "./protocol.js";
import { restartPolicy, type RestartOptions } from "./restart-policy.js";
import { Router, type MessageRouter } from "./router.js";
import type { AgentStats } from "./stats.js";
import { StateFile } from "./state-file.js";
import { VirtualKinds, type VirtualKind, type VirtualOptions, type VirtualStats } from "./virtual-kinds.js";
import { Supervisor, type Member, type MemberDescription, type SupervisorEvents } from "./supervisor.js";
import { checkTimeoutMs } from "./timeout.js";
import { addRows, type DurationRow } from "./telemetry/durations.js";
import { DepartedCounts, prometheusText } from "./telemetry/metrics.js";
import { serveMetrics, type MetricsServer, type MetricsServerOptions } from "./telemetry/serve.js";
import { refreshTracing } from "./telemetry/tracing.js";

/** Where an agent may be placed (worker-based spaces). */
export interface PlacementOptions {
  /** A worker thread of its own, whatever the space's `threads`. */
  isolate?: boolean;
  /** Memory limits of its thread (implies `isolate`: the limits are the agent's alone). */
  resourceLimits?: ResourceLimits;
}

/** Per-agent settings of `space.add`. */
export interface AddOptions extends RestartOptions, PlacementOptions {
  /** Messages that may wait in the agent's mailbox (space default 10,000). */
  mailboxSize?: number;
  /** What a message past the bound meets (space default "reject"). */
  mailboxPolicy?: MailboxPolicy;
}

/**
 * Whether a class's constructor may be called without an init: it takes
 * none, or an optional one (or its type is not known: a class loaded at run time).
 */
type InitOptional<C extends AgentClass> = [InitOf<C>] extends [never] ? true : undefined extends InitOf<C> ? true : false;

/** `init`, optional only when the class's constructor takes none or an optional one: a required init left out is a compile error. */
export type InitArg<C extends AgentClass> = InitOptional<C> extends true ? [init?: InitOf<C>] : [init: InitOf<C>];

/** What `add` takes after the id: the init (see InitArg), then the options. */
export type AddArgs<C extends AgentClass> = InitOptional<C> extends true
  ? [init?: InitOf<C>, options?: AddOptions]
  : [init: InitOf<C>, options?: AddOptions];

export interface RemoveOptions {
  /** An agent in a worker that has not finished `beforeRemove` by then (a busy loop) is terminated (default 10 s). */
  timeoutMs?: number;
}

export interface SpaceOptions {
  /** Default `timeoutMs` of every `request` in the space; `Infinity` waits forever. */
  requestTimeoutMs?: number;
  /**
   * Opens the debugging actions (`inspect`, `eval`), which run code inside an
   * agent. Off unless asked for. `true`: for foreground agents and handles of
   * this process only; `"remote"`: for every agent, and every broker peer.
   */
  debug?: DebugMode;
  /** Default `mailboxSize` of every agent. */
  mailboxSize?: number;
  /**
   * Default `mailboxPolicy`: `"reject"` answers a message past the bound with
   * MailboxFullError; `"wait"` keeps it, in order, until there is room (up to
   * another `mailboxSize` waiting), so a request resolves later instead.
   */
  mailboxPolicy?: MailboxPolicy;
  /** Default `timeoutMs` of `remove` (and of each agent at `destroy`). */
  removeTimeoutMs?: number;
  /**
   * A SQLite file (made if missing) where durable agents (`static durable =
   * true`) keep their states: restored on every start of their ids, in this
   * run or the next; `remove` deletes one, `destroy` keeps them all.
   * Needs better-sqlite3 (version 12). RedisSpace keeps states in Redis instead.
   */
  store?: string;
  /**
   * A module (path or file: URL) each worker thread imports before any
   * agent: register your OpenTelemetry SDK there, as in the main thread, and
   * the agents' messages are traced in every thread (worker threads have
   * globals of their own).
   */
  telemetry?: string | URL;
  /**
   * Times every action from the start, for `agentspace_action_duration_seconds`.
   * Otherwise actions are timed from the first `metrics()` or `serveMetrics()`
   * on (timing costs two clock reads per action).
   */
  metrics?: boolean;
}

type DefaultedOptions = Required<Omit<SpaceOptions, "store" | "telemetry" | "metrics">>;

export const spaceDefaults: DefaultedOptions = {
  requestTimeoutMs: 60_000,
  debug: false,
  mailboxSize: 10_000,
  mailboxPolicy: "reject",
  removeTimeoutMs: 10_000,
};

export interface SpaceEvents {
  "agent:added": (id: string) => void;
  "agent:removed": (id: string) => void;
  /** Every message between agents, wherever it moved. */
  message: (message: Message) => void;
  /**
   * An agent crashed, or a callback failed with nobody to answer. With no
   * listener, each is printed to stderr as one line, so none goes unseen.
   * `outcome`, when given, says in words what the space did about it
   * ("restarting it in 100 ms"); code decides on the `lifecycle` event instead.
   */
  error: (error: Error, outcome?: string) => void;
  /** What happens to agents (crashed, restarting, removed…), typed for code to decide on. */
  lifecycle: (event: LifecycleEvent) => void;
}

/** Called after a listener came or went (see the end of this file). */
const LISTENERS_CHANGED = Symbol("listenersChanged");

/**
 * What every space shares: agents join and leave, the router moves their
 * messages, foreground agents and handles live in the calling thread.
 * Subclasses differ only in where `spawn` puts an agent.
 */
export abstract class Space extends EventEmitter<SpaceEvents> implements AsyncDisposable {
  protected readonly options: DefaultedOptions;
  /** file: URL of the module worker threads import first (SpaceOptions.telemetry), as given: bundled for them by the space that starts them. */
  protected readonly telemetry: string | undefined;
  /** Actions are timed (see SpaceOptions.metrics). */
  #timing: boolean;
  /** What agents that left had counted, by class: metrics' counters never go down. */
  #departed = new DepartedCounts();
  #metricServers = new Set<MetricsServer>();
  /** The holder name of this space's states in a store file (see StateFile). */
  readonly #holder = nanoid(12);
  readonly #store: string | undefined;
  /** The store file, as the space's own thread writes it (its agents, and removals), opened on first use. */
  #stateFile: StateFile | undefined;
  /** Durable agents in the space: a removal deletes their states. */
  #durable = new Set<string>();
  /** destroy() is under way: the agents go, their states stay. */
  #tearingDown = false;
  /** Messages travel as JSON (a broker space): values JSON would change are refused at the sender. */
  protected readonly carriesJson: boolean = false;
  /** Worker threads for heavy, stateless work (`agent.compute`, `offload` actions), started on first use. */
  protected readonly pool = new ComputePool();
  /** Moves the messages; a space whose transport is not in-process puts its own here. */
  protected router: MessageRouter = new Router(
    (message) => this.emit("message", message),
    () => this.#watched,
    (message) => this.#activate(message),
  );
  /** Kinds of virtual agent, by id prefix (see `virtual`). */
  #virtual = new VirtualKinds();
  /**
   * Virtual agents active (or activating) now: the messages the router sent
   * them, what they had received when last looked at, and since when neither
   * has changed.
   */
  #active = new Map<string, { kind: VirtualKind; starting: boolean; routed: number; seenRouted: number; received: number; since: number }>();
  #idleCheck: NodeJS.Timeout | undefined;
  #own: OwnThread | undefined;
  #members = new Map<string, Member>();
  /** Agents still starting: destroy() lets them finish joining, then removes them with the rest. */
  #joining = new Map<string, Promise<Member>>();
  #hidden = new Set<string>();
  #warnedOfDrops = false;
  #handleCaller: Promise<Agent> | undefined;
  #destroyed: Promise<void> | undefined;
  #inspectors = new Set<Inspector>();
  /** Whether a `message` listener is on (kept in step by the listener methods below). */
  #watched = false;
  #defaultMailbox: MailboxOptions | undefined;

  constructor(options: SpaceOptions = {}) {
    super();
    const { store, telemetry, metrics, ...rest } = options;
    this.options = { ...spaceDefaults, ...rest };
    this.telemetry = telemetry === undefined ? undefined : telemetryModule(telemetry);
    this.#timing = metrics === true;
    refreshTracing();
    if (store !== undefined && (typeof store !== "string" || store.length === 0)) throw new TypeError(`store must be a file path, not ${String(store)}`);
    this.#store = store;
    checkTimeoutMs(this.options.requestTimeoutMs, "requestTimeoutMs");
    checkTimeoutMs(this.options.removeTimeoutMs, "removeTimeoutMs");
    expose(this, {
      debug: this.options.debug,
      describe: () => this.#describe(),
      members: () => [...this.#members].filter(([id]) => !this.#hidden.has(id)),
    });
  }

  /** Adds an agent where the space runs agents; resolves once it runs (after `afterAdd`). */
  add<C extends AgentClass>(Cls: C, id: string, ...[init, options = {}]: AddArgs<C>): Promise<void> {
    try {
      this.#checkKeeps(Cls);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#join(id, () => this.spawn(Cls, id, init, options), isDurable(Cls));
  }

  /** Adds an agent that lives in the calling thread, and returns it. */
  async addForeground<C extends AgentClass>(Cls: C, id: string, ...[init]: InitArg<C>): Promise<InstanceType<C>> {
    let agent: InstanceType<C> | undefined;
    this.#checkKeeps(Cls);
    await this.#join(
      id,
      async () => {
        const started = await this.startHere(Cls, id, init, {}, true);
        agent = started.instance as InstanceType<C>;
        return started.member;
      },
      isDurable(Cls),
    );
    return agent!;
  }

  /**
   * Makes every id that starts with `prefix` an agent of class `Cls`, there
   * whether or not it runs: a message to one that is not active activates
   * it (the message, and those that follow, wait meanwhile), and after
   * `idleMs` with no message it passivates, leaving `space.agents` (a durable
   * class writes its state first and finds it again at its next activation).
   * Broadcasts reach active instances only. On RedisSpace the kind is
   * namespace-wide and this returns a promise, settled once it is
   * registered in Redis (see RedisSpace).
   *
   * ```ts
   * space.virtual(Account, { prefix: "acct:", idleMs: 60_000 });
   * await space.handle<Account>("acct:42").deposit({ n: 5 }); // activates acct:42
   * ```
   */
  virtual<C extends AgentClass>(Cls: C, options: VirtualOptions): void | Promise<void> {
    if (this.#destroyed) throw new Error("this space has been destroyed");
    const refusal = this.virtualRefusal();
    if (refusal) throw new TypeError(refusal);
    this.#checkKeeps(Cls);
    const kind = this.#virtual.register(Cls, options);
    const active = this.#active;
    if (this.router instanceof Router) {
      this.router.touched ??= (id) => {
        const seen = active.get(id);
        if (seen) seen.routed++;
      };
    }
    // Looked at a few times per idle time: an instance passivates within a quarter of it past its idleMs.
    clearInterval(this.#idleCheck);
    const every = Math.min(1_000, Math.max(10, Math.floor(this.#virtual.shortestIdleMs / 4)));
    this.#idleCheck = setInterval(() => this.#passivateIdle(), every).unref();
    return this.serveVirtual(kind);
  }

  /** Why this space cannot run virtual agents; undefined when it can (its router activates them, or its transport: see serveVirtual). */
  protected virtualRefusal(): string | undefined {
    if (this.router instanceof Router) return undefined;
    return `virtual agents run in LocalSpace, MultiprocessSpace and RedisSpace; a ${this.constructor.name} does not activate them yet`;
  }

  /**
   * A space whose transport activates virtual agents namespace-wide
   * (RedisSpace) registers `kind` there, and calls activateHere for its
   * share of the activations; resolves once it serves them. Undefined: the
   * router activates them, in this space alone.
   */
  protected serveVirtual(_kind: VirtualKind): Promise<void> | undefined {
    return undefined;
  }

  /**
   * Activates virtual agent `id` in this process, as the transport asks:
   * resolves once it runs here, or when another process holds it
   * (DuplicateAgentError: exactly one instance, namespace-wide). Rejects
   * with why it could not start.
   */
  protected async activateHere(id: string): Promise<void> {
    const kind = this.#destroyed ? undefined : this.#virtual.kindOf(id);
    if (!kind || this.#members.has(id) || this.#joining.has(id)) return;
    await this.#startInstance(kind, id).catch((error: unknown) => {
      if (!(error instanceof DuplicateAgentError)) throw error;
    });
  }

  /** Whether `id` names a virtual agent of this space (see `virtual`), active or not. */
  protected isVirtual(id: string): boolean {
    return this.#virtual.kindOf(id) !== undefined;
  }

  /**
   * What waits for agent `id` outside its host (on a broker: in its mailbox
   * there, or taken and not answered): a virtual agent with any is not idle.
   */
  protected backlog(_id: string): number {
    return 0;
  }

  /** Virtual agent `id` is about to passivate: a transport stops handing it messages, which wait for its next activation. */
  protected passivating(_id: string): void {}

  /** Removes an agent, calling its `beforeRemove`. Requests still waiting on it reject. */
  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    const timeoutMs = checkTimeoutMs(options.timeoutMs ?? this.options.removeTimeoutMs, "timeoutMs");
    await this.#remove(id, timeoutMs, "removed");
  }

  /** Per agent: messages received and sent, errors, restarts, mailbox depth. */
  stats(): Record<string, AgentStats> {
    const stats: Record<string, AgentStats> = {};
    for (const [id, member] of this.#members) if (!this.#hidden.has(id)) stats[id] = member.stats();
    return stats;
  }

  /**
   * Per class of virtual agent (see `virtual`): the instances active now,
   * and the activations and passivations in this space so far. (`stats()`
   * is per agent id, of the active instances.)
   */
  virtualStats(): Record<string, VirtualStats> {
    const active: VirtualKind[] = [];
    for (const seen of this.#active.values()) if (!seen.starting) active.push(seen.kind);
    return this.#virtual.stats(active);
  }

  /** The ids of the agents in this space. */
  get agents(): string[] {
    return [...this.#members.keys()].filter((id) => !this.#hidden.has(id));
  }

  /** A typed proxy to agent `id`: `await space.handle<Calc>("calc").add({ a: 1, b: 2 })`. */
  handle<T extends Agent = Agent>(id: string, options: RequestOptions = {}): Handle<T> {
    return createHandle<Handle<T>>(async (name, args) => {
      const caller = await this.#caller();
      return caller.request({ to: id, action: { name, args } }, options);
    });
  }

  /**
   * Asks every agent and gathers the answers by agent id (see Agent.gather):
   * ends once each agent of this space in this process has answered (an
   * agent without the action answers with ActionNotFoundError), or after
   * `timeoutMs`. On a broker, pass `expect` to wait for agents of other processes too.
   *
   * ```ts
   * const { values, errors, missing } = await space.gather<number>({ to: "*", action: { name: "infected" } });
   * ```
   */
  async gather<T = unknown>(message: { to?: "*"; action: OutgoingMessage["action"] }, options: GatherOptions = {}): Promise<Gathered<T>> {
    const caller = await this.#caller();
    return caller.gather<T>({ to: "*", action: message.action }, { ...options, expect: options.expect ?? this.agents });
  }

  /**
   * Live reload: bundles `module` (a URL, a path, or an agent class) again and
   * swaps every running agent of this process whose class comes from it to the
   * new version. Ids, mailboxes and requests under way stay; messages arriving
   * meanwhile wait and go, in order, to the new instance; actions already
   * running finish on the old code. State moves as the instance's own fields,
   * or through `snapshot()` / `restore(state)`; loops and timers start again.
   * An agent whose new constructor or `restore` throws keeps its old version,
   * and this rejects with a ReloadError saying why.
   */
  reload(module: ReloadTarget): Promise<ReloadReport> {
    if (this.#destroyed) return Promise.reject(new Error("this space has been destroyed"));
    return features().reload(this, module);
  }

  /**
   * Adds action `name` to the running agent `id`, from `source`, a function's
   * source text (`"({ n }) => n * 3"`): for debug spaces only, and only from
   * this process, as the `eval` action. `help` lists it and handles reach it;
   * a reload keeps it unless the new version of the class defines the name.
   */
  defineAction(id: string, name: string, source: string, options: ActionOptions = {}): Promise<string[]> {
    return features().defineAction(this, id, name, source, options);
  }

  /**
   * The space's metrics in Prometheus's text format (see DESIGN "Telemetry"):
   * messages, mailbox depth, restarts, dropped items and agents by class, and
   * how long actions take, gathered from every thread. Actions are timed from
   * the first call on, unless the space was made with `metrics: true`.
   */
  async metrics(): Promise<string> {
    this.#startTiming();
    const rows = new Map<string, DurationRow>();
    for (const thread of await this.durationRows()) addRows(rows, thread);
    const present: Array<{ agentClass: string; stats: AgentStats }> = [];
    for (const [id, member] of this.#members) if (!this.#hidden.has(id)) present.push({ agentClass: member.describe().className, stats: member.stats() });
    return prometheusText(this.#departed.withPresent(present), rows.values(), this.virtualStats());
  }

  /** Serves `metrics()` at `/metrics` on `host` (default 127.0.0.1) and `port` (default: any free one), for Prometheus to scrape. `destroy()` closes it. */
  async serveMetrics(options: MetricsServerOptions = {}): Promise<MetricsServer> {
    if (this.#destroyed) throw new Error("this space has been destroyed");
    this.#startTiming();
    const server = await serveMetrics(() => this.metrics(), options);
    const close = server.close;
    const served: MetricsServer = {
      url: server.url,
      close: () => {
        this.#metricServers.delete(served);
        return close();
      },
    };
    this.#metricServers.add(served);
    return served;
  }

  #startTiming(): void {
    this.#timing = true;
    if (this.#own) this.#own.host.durations.timing = true;
  }

  /** Whether actions are timed (worker threads are started with it). */
  protected get timing(): boolean {
    return this.#timing;
  }

  /** The action durations every thread of the space counted, a list per thread (threads that ended included): the space's own thread here. */
  protected async durationRows(): Promise<DurationRow[][]> {
    return this.#own ? [this.#own.host.durations.rows()] : [];
  }

  /** Removes every agent, ends every worker and connection; resolves when all is released. */
  destroy(): Promise<void> {
    this.#destroyed ??= this.#teardown();
    return this.#destroyed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.destroy();
  }

  /**
   * Serves a live web page of this space (agents, mailboxes, message flow,
   * trace) on `host` (default 127.0.0.1); `port` 0 (the default) takes any
   * free port. Every request needs the token in `url`. `destroy()` closes it.
   */
  async openInspector(options: InspectorOptions = {}): Promise<Inspector> {
    if (this.#destroyed) throw new Error("this space has been destroyed");
    const inspector = await features().openInspector(this, options);
    if (this.#destroyed) {
      // destroy() began while the server started: it would not know to close this one.
      await inspector.close();
      throw new Error("this space has been destroyed");
    }
    this.#inspectors.add(inspector);
    inspector.closed.then(() => this.#inspectors.delete(inspector));
    return inspector;
  }

  /** Starts an agent where this space runs agents, and puts it into the router. */
  protected abstract spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member>;

  /** Releases what the space itself holds, once every agent is gone. */
  protected async release(): Promise<void> {}

  /** A `message` listener came (`true`) or the last one went: subclasses with hosts in other threads tell them. */
  protected watchChanged(_watched: boolean): void {}

  /** Whether a `message` listener is on. */
  protected get watched(): boolean {
    return this.#watched;
  }

  /** How the hosts of this space's agents run, in any thread. */
  protected hostSettings(): HostSettings {
    const onBroker = this.carriesJson;
    return {
      localDelivery: !onBroker,
      errorsOnly: onBroker ? "always" : "unwatched",
      dropUnwantedAnswers: !onBroker,
      requestTimeoutMs: this.options.requestTimeoutMs,
      debug: this.options.debug,
      json: this.carriesJson,
      durable: this.stateKeeping(),
    };
  }

  /** Where this space's durable agents keep their states (see HostSettings.durable): the store file, if one was given. */
  protected stateKeeping(): HostSettings["durable"] {
    return this.#store === undefined ? undefined : { file: this.#store, holder: this.#holder };
  }

  /** A durable agent's last written state, for a start in a thread that does not read it itself (`stateKeeping()` "up"). */
  protected keptState(_id: string): string | undefined {
    return undefined;
  }

  /** The sink of a durable agent in the space's own thread. */
  #ownSink(): StateSink | undefined {
    const keeping = this.stateKeeping();
    if (keeping === undefined) return undefined;
    if (keeping !== "up") return this.#file(keeping.file).sink(keeping.holder);
    return {
      claim: (id) => this.keptState(id),
      write: (id, state, changed, handled) => {
        if (changed) this.router.stateWritten?.(id, handled?.meta.id, state);
        return true;
      },
    };
  }

  /** The store file as this thread writes it, opened on first use. */
  #file(path: string): StateFile {
    return (this.#stateFile ??= StateFile.open(path));
  }

  /** A durable class in a space that keeps no states is refused before anything starts. */
  #checkKeeps(Cls: AgentClass): void {
    if (!isDurable(Cls) || this.stateKeeping() !== undefined) return;
    throw new TypeError(
      `${Cls.name} is durable (static durable = true), but this ${this.constructor.name} keeps no states: ` +
        `give it a store file, as in new ${this.constructor.name}({ store: "./agents.db" }), or run it on a RedisSpace, which keeps states in Redis`,
    );
  }

  /** Starts an agent in the space's own thread (LocalSpace's agents; `trusted`: a foreground agent). */
  protected async startHere(
    Cls: AgentClass,
    id: string,
    init: unknown,
    options: AddOptions,
    trusted: boolean,
  ): Promise<{ member: Member; instance: unknown }> {
    const own = (this.#own ??= this.#ownThread());
    const site = own.place({
      id,
      Cls,
      className: Cls.name,
      init,
      mailbox: this.mailbox(options),
      trusted,
      durable: isDurable(Cls) ? this.#ownSink() : undefined,
    });
    const member = await Supervisor.start({
      id,
      className: Cls.name,
      router: this.router,
      route: site.agent,
      placement: site,
      // A foreground agent is the caller's: it is never restarted, nor reloaded.
      restart: restartPolicy(trusted ? {} : options),
      stopTimeoutMs: this.options.removeTimeoutMs,
      ...(trusted ? {} : { sourceModule: ownModule(Cls) }),
      events: this.supervisorEvents,
    });
    return { member, instance: site.agent.instance };
  }

  /** The space's own thread as a place for agents, made on first use. */
  #ownThread(): OwnThread {
    const own = new OwnThread({
      settings: this.hostSettings(),
      router: () => this.router,
      pool: this.pool,
      watched: () => this.#watched,
      observe: (message) => this.emit("message", message),
      reportError: (error) => this.reportError(error instanceof Error ? error : new Error(String(error))),
    });
    own.host.durations.timing = this.#timing;
    return own;
  }

  /** What every agent's supervisor tells this space: one object for them all. */
  protected readonly supervisorEvents: SupervisorEvents = {
    lifecycle: (event) => this.emit("lifecycle", event),
    report: (error, aftermath) => this.reportError(error, aftermath),
    leave: (id, cause, reason) => this.#leave(id, cause, reason),
  };

  /** An agent's mailbox: its own settings, else the space's (one object for every agent that sets neither). */
  protected mailbox(options: AddOptions): MailboxOptions {
    if (options.mailboxSize === undefined && options.mailboxPolicy === undefined) {
      return (this.#defaultMailbox ??= { size: this.options.mailboxSize, policy: this.options.mailboxPolicy });
    }
    return {
      size: options.mailboxSize ?? this.options.mailboxSize,
      policy: options.mailboxPolicy ?? this.options.mailboxPolicy,
    };
  }

  /** An `error` event; with nobody listening, one line on stderr instead (eventemitter3 would drop it). */
  protected reportError(error: Error, aftermath?: Aftermath): void {
    const outcome = aftermath === undefined ? undefined : aftermathText(aftermath);
    if (this.listenerCount("error") > 0) this.emit("error", error, outcome);
    else console.error(`[agentspace] ${error.name}: ${error.message}${outcome ? `; ${outcome}` : ""}`);
  }

  /**
   * Something malformed or forged came from a thread and was dropped: counted
   * for the agents that may have sent it, and said once as a process warning.
   */
  protected dropped(why: string, senders: string[]): void {
    for (const id of senders) this.#members.get(id)?.dropped();
    if (this.#warnedOfDrops) return;
    this.#warnedOfDrops = true;
    const who = senders.length === 1 ? `agent "${senders[0]}"` : `one of ${senders.length} agents in a thread`;
    process.emitWarning(`${who} sent something the space dropped: ${why}. Later ones are only counted (space.stats(): dropped).`, {
      code: "AGENTSPACE_DROPPED",
    });
  }

  [LISTENERS_CHANGED](): void {
    const watched = this.listenerCount("message") > 0;
    if (watched === this.#watched) return;
    this.#watched = watched;
    this.watchChanged(watched);
  }

  async #remove(id: string, timeoutMs: number, cause: "removed" | "shutdown" | "failed" | "passivated", reason?: Error): Promise<void> {
    const member = this.#members.get(id);
    if (!member) throw new AgentNotFoundError(`no agent "${id}" in this space`);
    this.#members.delete(id);
    // What it counted stays in the metrics' counters (read before it stops: a stopped agent's counts are gone with its thread).
    if (!this.#hidden.has(id)) this.#departed.add(member.describe().className, member.stats());
    // No stack: it is a reason handed to whoever still waits on the agent, and a swarm's teardown makes one per agent.
    await member.stop(reason ?? withoutStack(() => new AgentNotFoundError(`agent "${id}" was removed from the space`)), timeoutMs);
    // A passivated agent keeps its state for its next activation; destroy() keeps every state.
    if (this.#durable.delete(id) && !this.#tearingDown && cause !== "passivated") this.forgetState(id);
    if (this.#hidden.delete(id)) return;
    this.emit("agent:removed", id);
    this.emit("lifecycle", { type: "removed", id, cause });
  }

  /** Agent `id` must go as `remove` takes it out: it called `shutdown()`, or it failed and its policy allows no restart. */
  #leave(id: string, cause: "shutdown" | "failed", reason?: Error): void {
    if (!this.#members.has(id)) return; // already on its way out
    this.#remove(id, this.options.removeTimeoutMs, cause, reason).catch((error: Error) => this.reportError(error));
  }

  #describe(): Array<MemberDescription & { id: string }> {
    const described: Array<MemberDescription & { id: string }> = [];
    for (const [id, member] of this.#members) if (!this.#hidden.has(id)) described.push({ id, ...member.describe() });
    return described;
  }

  /** A durable agent was removed for good (not at destroy): its state goes (a broker space deletes it with the mailbox). */
  protected forgetState(id: string): void {
    const keeping = this.stateKeeping();
    if (keeping === undefined || keeping === "up") return;
    try {
      this.#file(keeping.file).delete(id, keeping.holder);
    } catch (error) {
      this.reportError(new Error(`the state of "${id}" could not be deleted from ${keeping.file}: ${(error as Error).message}`, { cause: error }));
    }
  }

  /** An action for an id no agent holds: when a virtual kind's prefix names it, it activates, and the message waits in the router. */
  #activate(message: Message): boolean {
    const kind = this.#destroyed ? undefined : this.#virtual.kindOf(message.to);
    if (!kind) return false;
    this.#startVirtual(kind, message.to);
    return true;
  }

  #startVirtual(kind: VirtualKind, id: string): void {
    const router = this.router as Router;
    // What waited for it learns why it could not start.
    this.#startInstance(kind, id).catch((error: Error) => router.release(id, error));
  }

  /** Adds an instance of virtual agent `id`, counted active from now (and idle from once it runs); rejects as `add` does. */
  async #startInstance(kind: VirtualKind, id: string): Promise<void> {
    const seen = { kind, starting: true, routed: 0, seenRouted: 0, received: 0, since: Date.now() };
    this.#active.set(id, seen);
    try {
      await this.add(kind.Cls, id);
    } catch (error) {
      this.#active.delete(id);
      throw error;
    }
    kind.activations++;
    seen.starting = false;
    seen.since = Date.now();
  }

  /** Passivates each active virtual agent that took no message for its kind's idle time. */
  #passivateIdle(): void {
    const now = Date.now();
    for (const [id, seen] of this.#active) {
      if (seen.starting) continue;
      const member = this.#members.get(id);
      if (!member) {
        this.#active.delete(id); // removed, or shut itself down
        continue;
      }
      const { received, mailboxDepth, working } = member.stats();
      // Busy while anything came, waits, is on its way to its thread (routed, not yet received), or is being worked on.
      const busy = mailboxDepth > 0 || working > 0 || received < seen.routed || this.backlog(id) > 0;
      if (busy || received !== seen.received || seen.routed !== seen.seenRouted) {
        seen.received = received;
        seen.seenRouted = seen.routed;
        seen.since = now;
      } else if (now - seen.since >= seen.kind.idleMs) {
        this.#active.delete(id);
        void this.#passivate(id, seen.kind);
      }
    }
  }

  /** Stops `id` as a removal does, keeping its state; what comes meanwhile waits, and activates it again. */
  async #passivate(id: string, kind: VirtualKind): Promise<void> {
    const router = this.router instanceof Router ? this.router : undefined;
    router?.hold(id);
    this.passivating(id);
    try {
      await this.#remove(id, this.options.removeTimeoutMs, "passivated", new PassivatedError(`agent "${id}" passivated: what waits for it goes to its next activation`));
      kind.passivations++;
    } catch (error) {
      this.reportError(error as Error);
    }
    // On a broker, what came meanwhile waits there, and asks for the next activation itself.
    if (!router) return;
    if (router.holding(id) > 0 && !this.#destroyed) this.#startVirtual(kind, id);
    else router.release(id);
  }

  async #join(id: string, start: () => Promise<Member>, durable = false): Promise<void> {
    if (this.#destroyed) throw new Error("this space has been destroyed");
    const problem = agentIdProblem(id);
    if (problem) throw new TypeError(problem);
    if (this.#members.has(id) || this.#joining.has(id) || this.router.has(id)) {
      throw new DuplicateAgentError(`an agent "${id}" is already in this space`);
    }
    checkHeapRoom("the main thread", this.#members.size + this.#joining.size);
    // An SDK registered since the space was made traces this thread's agents from here (see telemetry/tracing.ts).
    refreshTracing();
    const starting = start();
    this.#joining.set(id, starting);
    try {
      this.#members.set(id, await starting);
      if (durable) this.#durable.add(id);
    } finally {
      this.#joining.delete(id);
    }
    if (!this.#hidden.has(id)) this.emit("agent:added", id);
  }

  /** The foreground agent that handles send their requests from, made on first use. */
  #caller(): Promise<Agent> {
    this.#handleCaller ??= (async () => {
      const id = `handle-${nanoid(10)}`;
      this.#hidden.add(id);
      return this.addForeground(Agent, id);
    })();
    return this.#handleCaller;
  }

  async #teardown(): Promise<void> {
    await Promise.allSettled([...this.#inspectors, ...this.#metricServers].map((server) => server.close()));
    // Each join awaited its start before this did, so a started agent is a member by the time this resumes.
    await Promise.allSettled(this.#joining.values());
    clearInterval(this.#idleCheck);
    this.router.closing();
    this.#tearingDown = true;
    await removeAll([...this.#members.keys()], (id) => this.remove(id));
    this.#handleCaller = undefined;
    await this.pool.destroy();
    await this.release();
    this.#stateFile?.close();
  }
}

/**
 * Removes at most this many agents at once when a space is destroyed: every
 * removal holds a timer, a control call and its promises until it ends, and
 * a million at once would need the memory of a second million agents.
 */
const REMOVING_AT_ONCE = 4_096;

/** `remove` of each id, REMOVING_AT_ONCE at a time; one that fails or hangs (up to its timeout) holds up no other. */
async function removeAll(ids: string[], remove: (id: string) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) await remove(ids[next++]!).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: Math.min(REMOVING_AT_ONCE, ids.length) }, lane));
}

// Hosts in other threads are told when a `message` listener comes or goes:
// they report the messages between thread-mates only then. eventemitter3
// has no hook for it, so the methods that add and remove listeners are
// wrapped here, keeping their inherited types (a space stays an EventEmitter).
for (const name of ["on", "addListener", "once", "off", "removeListener", "removeAllListeners"] as const) {
  const inherited = EventEmitter.prototype[name] as (this: Space, ...args: unknown[]) => Space;
  Object.defineProperty(Space.prototype, name, {
    value(this: Space, ...args: unknown[]): Space {
      inherited.apply(this, args);
      this[LISTENERS_CHANGED]();
      return this;
    },
    writable: true,
    configurable: true,
  });
}

/** The file: URL of a telemetry module given as a path or URL; a missing file is refused now, not in every worker. */
function telemetryModule(module: string | URL): string {
  const url = module instanceof URL ? module : /^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module) ? new URL(module) : pathToFileURL(resolvePath(module));
  if (url.protocol !== "file:") throw new TypeError(`telemetry must be a file path or file: URL, not ${url.href}`);
  if (!existsSync(fileURLToPath(url))) {
    throw new TypeError(`telemetry module ${fileURLToPath(url)} does not exist: give the path of the module that registers your OpenTelemetry SDK`);
  }
  return url.href;
}
