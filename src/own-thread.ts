import type { LinkedAgent } from "./agent-link.js";
import { ownModule, type AgentClass } from "./agent-class.js";
import type { Agent } from "./agent.js";
import type { NextVersion } from "./bundle.js";
import type { ComputePool } from "./compute.js";
import { loadClass } from "./exported-class.js";
import { AgentHost, type HostOptions } from "./host/agent-host.js";
import { CountSlots } from "./host/counters.js";
import type { StateSink } from "./host/durable-state.js";
import type { HostedAgent } from "./host/hosted-agent.js";
import type { MailboxOptions } from "./host/mailbox.js";
import { wantsErrorsOnly } from "./answer-mark.js";
import { answerTo } from "./answer.js";
import { debugRefusal } from "./debug-gate.js";
import { BROADCAST, isAnswer, type Message } from "./message.js";
import type { HostSettings } from "./protocol.js";
import type { MessageRouter } from "./router.js";
import type { AgentPlacement, Site, SiteEvents } from "./supervisor.js";

export interface OwnThreadOptions {
  settings: HostSettings;
  /** The space's router now (a broker space puts its own in place after construction). */
  router(): MessageRouter;
  pool: ComputePool;
  watched(): boolean;
  observe(message: Message): void;
  reportError(error: unknown): void;
}

/** An agent class as a site makes instances of it. */
type InstanceClass = new (id: string, init: unknown) => LinkedAgent;

/** How an agent of the space's own thread is made: its class (or a newer version of it), its id and init. */
export interface OwnAgentSpec {
  id: string;
  Cls: new (id: string, init: never) => Agent;
  className: string;
  init: unknown;
  mailbox: MailboxOptions;
  /** A foreground agent (or a handle's): held by the caller, trusted with the debug actions. */
  trusted: boolean;
  /** Where a durable agent keeps its state; undefined: it keeps none. */
  durable: StateSink | undefined;
}

/**
 * The space's own thread as a place for agents (LocalSpace's agents, every
 * space's foreground agents): its host, and the supervisor of each agent in it.
 */
export class OwnThread {
  readonly host: AgentHost;
  #counts = new CountSlots(false);
  /** Each agent's site, by id: where its loops' failures and its shutdown go. */
  #sites = new Map<string, OwnSite>();

  constructor(options: OwnThreadOptions) {
    const { settings } = options;
    const hostOptions: HostOptions = {
      ...settings,
      // Where this thread's messages leave its host, checked as a worker's are where they leave its port.
      uplink: (message, from) => {
        const router = options.router();
        const refusal = from && debugRefusal(message, from.trusted, settings.debug);
        if (refusal) return router.route(answerTo(message, message.to, false, refusal));
        // An action whose answer may be awaited (not marked errors-only): its sender is told if its receiver leaves.
        if (from && message.to !== BROADCAST && !isAnswer(message) && !wantsErrorsOnly(message)) router.asked(from, message.from, message.to);
        router.route(message, this.host);
      },
      compute: (agent, request) => {
        // The pool thread imports the class from its source module (an unbundled one: the pool bundles it).
        const Cls = agent.instance?.constructor as AgentClass | undefined;
        return options.pool.run(request, { moduleUrl: (Cls && ownModule(Cls)) ?? "", className: Cls?.name ?? "", bundled: false });
      },
      watched: options.watched,
      observe: options.observe,
      failed: (id, error) => this.#sites.get(id)?.events?.failed(error),
      shutdown: (id) => this.#sites.get(id)?.events?.shutdown(),
      reportError: options.reportError,
      handBack: (message) => options.router().handBack?.(message.to, message),
    };
    this.host = new AgentHost(hostOptions);
  }

  /** Places agent `spec.id` in the host; the site returned is where its supervisor starts and stops it there. */
  place(spec: OwnAgentSpec): OwnSite {
    const slot = this.#counts.take();
    const agent = this.host.place({
      id: spec.id,
      mailbox: spec.mailbox,
      counts: this.#counts.slot(slot),
      trusted: spec.trusted,
      local: true,
      durable: spec.durable,
    });
    const site = new OwnSite(this, agent, spec, slot);
    this.#sites.set(spec.id, site);
    return site;
  }

  /** `site`'s agent left the host: its slot is free. */
  forget(site: OwnSite): void {
    if (this.#sites.get(site.agent.id) === site) this.#sites.delete(site.agent.id);
    this.#counts.give(site.slot);
  }

  count(agent: HostedAgent, what: number): number {
    return agent.counts[agent.at + what]!;
  }
}

/**
 * An agent's place in the space's own thread, and its placement (the
 * thread is never lost, so its one site serves every instance). A loop
 * there cannot be ended: one that ignores its signal goes on.
 */
class OwnSite implements Site, AgentPlacement {
  readonly thread = null;
  readonly agent: HostedAgent;
  readonly slot: number;
  /** Its supervisor's, once it placed the agent here. */
  events: SiteEvents | undefined;
  #own: OwnThread;
  /** Of its spec, what a next instance needs (the spec itself would keep its mailbox and state sink too). */
  #className: string;
  #init: unknown;
  #Cls: InstanceClass;
  #version: NextVersion | undefined;
  #gone = false;

  constructor(own: OwnThread, agent: HostedAgent, spec: OwnAgentSpec, slot: number) {
    this.#own = own;
    this.agent = agent;
    this.#className = spec.className;
    this.#init = spec.init;
    this.slot = slot;
    this.#Cls = spec.Cls as unknown as InstanceClass;
  }

  held(): number {
    return 0; // its route is its mailbox, which counts itself
  }

  place(events: SiteEvents): Site {
    this.events = events;
    return this;
  }

  /** The agent leaves without having started: what waits for it is refused with `reason`. */
  close(reason: Error): void {
    if (this.#gone) return; // stopped already
    this.#own.host.drop(this.agent.id, reason);
    this.#forget();
  }

  start(version: NextVersion | undefined): Promise<void> {
    if (version && version !== this.#version) {
      return this.#versioned(version).then((Cls) => {
        this.#Cls = Cls;
        this.#version = version;
        return this.#startInstance();
      });
    }
    this.#version = version;
    return this.#startInstance();
  }

  #startInstance(): Promise<void> {
    const { id } = this.agent;
    const Cls = this.#Cls;
    const init = this.#init;
    return this.agent.start(() => new Cls(id, init));
  }

  async retire(timeoutMs: number): Promise<boolean> {
    this.#tellStuck(await this.agent.retire(undefined, timeoutMs), timeoutMs);
    return true;
  }

  async stop(reason: Error, timeoutMs: number): Promise<void> {
    try {
      this.#tellStuck(await this.#own.host.stop(this.agent.id, reason, timeoutMs), timeoutMs);
    } finally {
      this.#forget();
    }
  }

  async reload(next: NextVersion): Promise<void> {
    const Cls = await this.#versioned(next);
    const { id } = this.agent;
    const init = this.#init;
    await this.agent.swap(() => new Cls(id, init));
    this.#Cls = Cls;
    this.#version = next;
  }

  count(what: number): number {
    return this.#own.count(this.agent, what);
  }

  #versioned(version: NextVersion): Promise<InstanceClass> {
    return loadClass<InstanceClass>(version.bundleUrl, this.#className);
  }

  #forget(): void {
    this.#gone = true;
    this.#own.forget(this);
  }

  #tellStuck(loops: string[], timeoutMs: number): void {
    if (loops.length > 0) this.events?.stuck(loops, timeoutMs, false);
  }
}
