import { EventEmitter } from "eventemitter3";
import { nanoid } from "nanoid";
import { Agent } from "./agent.js";
import type { AgentStats, MailboxOptions, MailboxPolicy } from "./agent-route.js";
import { AgentNotFoundError, DuplicateAgentError } from "./errors.js";
import { ComputePool } from "./compute.js";
import { createHandle, type Handle } from "./handle.js";
import { hostInThread, type LinkOptions, type Member, type MemberDescription, type ThreadContext } from "./in-thread.js";
import type { Inspector, InspectorOptions } from "./inspector/types.js";
import type { DebugMode } from "./debug-gate.js";
import { agentIdProblem, type Message } from "./message.js";
import type { RequestOptions } from "./pending.js";
import { Router, type MessageRouter } from "./router.js";
import type { PlacementOptions } from "./spaces/placement.js";
import type { RestartOptions } from "./spaces/supervisor.js";
import { checkTimeoutMs } from "./timeout.js";
import type { ActionOptions } from "./action.js";
import { defineAction } from "./live/define.js";
import { reloadMembers, type ReloadReport, type ReloadTarget } from "./live/reload.js";

/** An agent class: constructed as `new Cls(id, init)`. */
export type AgentClass<A extends Agent = Agent> = (new (id: string, init: never) => A) & {
  /** Where worker-based spaces import the class from: `import.meta.url`. */
  module?: string;
  /** Take the next message only once the previous action has settled. */
  serial?: boolean;
};

/** The `init` an agent class's constructor takes. */
export type InitOf<C extends AgentClass> = C extends new (id: string, init: infer I) => Agent ? I : never;

/** Per-agent settings of `space.add`. */
export interface AddOptions extends RestartOptions, PlacementOptions {
  /** Messages that may wait in the agent's mailbox (space default 10,000). */
  mailboxSize?: number;
  /** What a message past the bound meets (space default "reject"). */
  mailboxPolicy?: MailboxPolicy;
}

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
}

export const spaceDefaults: Required<SpaceOptions> = {
  requestTimeoutMs: 60_000,
  debug: false,
  mailboxSize: 10_000,
  mailboxPolicy: "reject",
  removeTimeoutMs: 10_000,
};

export interface SpaceEvents {
  "agent:added": (id: string) => void;
  "agent:removed": (id: string) => void;
  /** Every message the router moves. */
  message: (message: Message) => void;
  /**
   * An agent crashed, or a callback failed with nobody to answer. With no
   * listener, each is printed to stderr as one line, so none goes unseen.
   * `outcome`, when given, says what the space did about it ("restarting it in 100 ms").
   */
  error: (error: Error, outcome?: string) => void;
}

/**
 * What every space shares: agents join and leave, the router moves their
 * messages, foreground agents and handles live in the calling thread.
 * Subclasses differ only in where `spawn` puts an agent.
 */
export abstract class Space extends EventEmitter<SpaceEvents> implements AsyncDisposable {
  protected readonly options: Required<SpaceOptions>;
  /** Messages travel as JSON (a broker space): values JSON would change are refused at the sender. */
  protected readonly carriesJson: boolean = false;
  /** Worker threads for heavy, stateless work (`agent.compute`, `offload` actions), started on first use. */
  protected readonly pool = new ComputePool();
  /** Moves the messages; a space whose transport is not in-process puts its own here. */
  protected router: MessageRouter = new Router(
    (message) => this.emit("message", message),
    () => this.listenerCount("message") > 0,
  );
  #members = new Map<string, Member>();
  #neighbours: ThreadContext["neighbours"] = new Map();
  /** Agents still starting: destroy() lets them finish joining, then removes them with the rest. */
  #joining = new Map<string, Promise<Member>>();
  #hidden = new Set<string>();
  #warnedOfDrops = false;
  #handleCaller: Promise<Agent> | undefined;
  #destroyed: Promise<void> | undefined;
  #inspectors = new Set<Inspector>();

  constructor(options: SpaceOptions = {}) {
    super();
    this.options = { ...spaceDefaults, ...options };
    checkTimeoutMs(this.options.requestTimeoutMs, "requestTimeoutMs");
    checkTimeoutMs(this.options.removeTimeoutMs, "removeTimeoutMs");
  }

  /** Adds an agent where the space runs agents; resolves once it runs (after `afterAdd`). */
  async add<C extends AgentClass>(Cls: C, id: string, init?: InitOf<C>, options: AddOptions = {}): Promise<void> {
    await this.#join(id, () => this.spawn(Cls, id, init, options));
  }

  /** Adds an agent that lives in the calling thread, and returns it. */
  async addForeground<C extends AgentClass>(Cls: C, id: string, init?: InitOf<C>): Promise<InstanceType<C>> {
    let agent: InstanceType<C> | undefined;
    await this.#join(id, async () => {
      const make = () => new Cls(id, init as never) as InstanceType<C>;
      const hosted = await hostInThread(this.threadContext(), make, this.linkOptions(), this.mailbox({}), { foreground: true });
      agent = hosted.agent;
      return hosted.member;
    });
    return agent!;
  }

  /** Removes an agent, calling its `beforeRemove`. Requests still waiting on it reject. */
  async remove(id: string, options: RemoveOptions = {}): Promise<void> {
    const member = this.#members.get(id);
    if (!member) throw new AgentNotFoundError(`no agent "${id}" in this space`);
    this.#members.delete(id);
    const timeoutMs = checkTimeoutMs(options.timeoutMs ?? this.options.removeTimeoutMs, "timeoutMs");
    const reason = new AgentNotFoundError(`agent "${id}" was removed from the space`);
    await member.stop(reason, timeoutMs);
    if (!this.#hidden.delete(id)) this.emit("agent:removed", id);
  }

  /** Per agent: messages received and sent, errors, restarts, mailbox depth. */
  stats(): Record<string, AgentStats> {
    const stats: Record<string, AgentStats> = {};
    for (const [id, member] of this.#members) if (!this.#hidden.has(id)) stats[id] = member.stats();
    return stats;
  }

  /** The ids of the agents in this space. */
  get agents(): string[] {
    return [...this.#members.keys()].filter((id) => !this.#hidden.has(id));
  }

  /** A typed proxy to agent `id`: `await space.handle<Calc>("calc").add({ a: 1, b: 2 })`. */
  handle<T extends Agent = Agent>(id: string, options: RequestOptions = {}): Handle<T> {
    return createHandle<T>(async (name, args) => {
      const caller = await this.#caller();
      return caller.request({ to: id, action: { name, args } }, options);
    });
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
    return reloadMembers([...this.#members].filter(([id]) => !this.#hidden.has(id)), module);
  }

  /**
   * Adds action `name` to the running agent `id`, from `source`, a function's
   * source text (`"({ n }) => n * 3"`): for debug spaces only, and only from
   * this process, as the `eval` action. `help` lists it and handles reach it;
   * a reload keeps it unless the new version of the class defines the name.
   */
  defineAction(id: string, name: string, source: string, options: ActionOptions = {}): Promise<string[]> {
    const evaluate = (code: string) => this.handle(id).eval({ code });
    return defineAction(this.options.debug, evaluate, id, name, source, options);
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
    // Loaded on first use: a space nobody inspects never loads the HTTP server.
    const { startInspector } = await import("./inspector/server.js");
    const inspector = await startInspector({ space: this, debug: this.options.debug !== false, describe: () => this.describeAgents() }, options);
    if (this.#destroyed) {
      // destroy() began while the server started: it would not know to close this one.
      await inspector.close();
      throw new Error("this space has been destroyed");
    }
    this.#inspectors.add(inspector);
    inspector.closed.then(() => this.#inspectors.delete(inspector));
    return inspector;
  }

  /** Per agent of this process, read-only: its class, the thread it runs in and its state. */
  protected describeAgents(): Array<MemberDescription & { id: string }> {
    const described: Array<MemberDescription & { id: string }> = [];
    for (const [id, member] of this.#members) if (!this.#hidden.has(id)) described.push({ id, ...member.describe() });
    return described;
  }

  /** Starts an agent where this space runs agents, and puts it into the router. */
  protected abstract spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member>;

  /** Releases what the space itself holds, once every agent is gone. */
  protected async release(): Promise<void> {}

  /** What agents in the calling thread share: see `hostInThread`. */
  protected threadContext(): ThreadContext {
    return {
      router: this.router,
      pool: this.pool,
      neighbours: this.#neighbours,
      debug: this.options.debug,
      leave: (id) => this.leave(id),
      report: (error, outcome) => this.reportError(error, outcome),
    };
  }

  /** An agent's mailbox: its own settings, else the space's. */
  protected mailbox(options: AddOptions): MailboxOptions {
    return {
      size: options.mailboxSize ?? this.options.mailboxSize,
      policy: options.mailboxPolicy ?? this.options.mailboxPolicy,
    };
  }

  /** What agents hosted by this space are given to talk to it. */
  protected linkOptions(): LinkOptions {
    return {
      requestTimeoutMs: this.options.requestTimeoutMs,
      debug: this.options.debug !== false,
      json: this.carriesJson,
      reportError: (error) => this.reportError(error instanceof Error ? error : new Error(String(error))),
    };
  }

  /** An `error` event; with nobody listening, one line on stderr instead (eventemitter3 would drop it). */
  protected reportError(error: Error, outcome?: string): void {
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

  /** Agent `id` must go as `remove` takes it out: it called `shutdown()`, or a loop failed and its policy allows no restart. */
  protected leave(id: string): void {
    if (!this.#members.has(id)) return; // already on its way out
    this.remove(id).catch((error: Error) => this.reportError(error));
  }

  /** An agent left without being removed (it crashed for good): forget it and say so. */
  protected forget(id: string): void {
    if (!this.#members.delete(id)) return;
    if (!this.#hidden.delete(id)) this.emit("agent:removed", id);
  }

  async #join(id: string, start: () => Promise<Member>): Promise<void> {
    if (this.#destroyed) throw new Error("this space has been destroyed");
    const problem = agentIdProblem(id);
    if (problem) throw new TypeError(problem);
    if (this.#members.has(id) || this.#joining.has(id) || this.router.has(id)) {
      throw new DuplicateAgentError(`an agent "${id}" is already in this space`);
    }
    const starting = start();
    this.#joining.set(id, starting);
    try {
      this.#members.set(id, await starting);
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
    await Promise.allSettled([...this.#inspectors].map((inspector) => inspector.close()));
    // Each join awaited its start before this did, so a started agent is a member by the time this resumes.
    await Promise.allSettled(this.#joining.values());
    this.router.closing();
    await Promise.allSettled([...this.#members.keys()].map((id) => this.remove(id)));
    this.#handleCaller = undefined;
    await this.pool.destroy();
    await this.release();
  }
}
