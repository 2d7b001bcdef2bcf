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
import { answerTo } from "./answer.js";
import { debugRefusal } from "./debug-gate.js";
import { BROADCAST, isAnswer, type Message } from "./message.js";
import type { HostSettings } from "./protocol.js";
import type { MessageRouter } from "./router.js";
import type { Site, SiteEvents } from "./supervisor.js";

export interface OwnThreadOptions {
  settings: HostSettings;
  /** The space's router now (a broker space puts its own in place after construction). */
  router(): MessageRouter;
  pool: ComputePool;
  watched(): boolean;
  observe(message: Message): void;
  reportError(error: unknown): void;
}

/** How an agent of the space's own thread is made: its class (or a newer version of it), its id and init. */
export interface OwnAgentSpec {
  id: string;
  create: () => Agent;
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
  #slots = new Map<HostedAgent, number>();
  #events = new Map<string, SiteEvents>();

  constructor(options: OwnThreadOptions) {
    const { settings } = options;
    const hostOptions: HostOptions = {
      ...settings,
      // Where this thread's messages leave its host, checked as a worker's are where they leave its port.
      uplink: (message, from) => {
        const router = options.router();
        const refusal = from && debugRefusal(message, from.trusted, settings.debug);
        if (refusal) return router.route(answerTo(message, message.to, false, refusal));
        if (from && message.to !== BROADCAST && !isAnswer(message)) router.asked(from, message.from, message.to);
        router.route(message, this.host);
      },
      compute: (agent, request) => {
        // The pool thread imports the class from its source module (an unbundled one: the pool bundles it).
        const Cls = agent.instance?.constructor as AgentClass | undefined;
        return options.pool.run(request, { moduleUrl: (Cls && ownModule(Cls)) ?? "", className: Cls?.name ?? "", bundled: false });
      },
      watched: options.watched,
      observe: options.observe,
      failed: (id, error) => this.#events.get(id)?.failed(error),
      shutdown: (id) => this.#events.get(id)?.shutdown(),
      reportError: options.reportError,
      handBack: (message) => options.router().handBack?.(message.to, message),
    };
    this.host = new AgentHost(hostOptions);
  }

  /**
   * Places agent `spec.id` in the host: `agent` is its route; its `site`
   * starts and stops it there; `close` takes it out if it never started.
   */
  place(spec: OwnAgentSpec): { agent: HostedAgent; site: (events: SiteEvents) => Site; close: (reason: Error) => void } {
    const slot = this.#counts.take();
    const agent = this.host.place({
      id: spec.id,
      mailbox: spec.mailbox,
      counts: this.#counts.slot(slot),
      trusted: spec.trusted,
      local: true,
      durable: spec.durable,
    });
    this.#slots.set(agent, slot);
    const close = (reason: Error): void => {
      if (this.host.get(spec.id) !== agent) return; // stopped by its site already
      this.host.drop(spec.id, reason);
      this.forget(agent);
    };
    return { agent, site: (events) => new OwnSite(this, agent, spec, events), close };
  }

  /** `agent` left the host: its slot and events are free. */
  forget(agent: HostedAgent): void {
    this.#events.delete(agent.id);
    this.#counts.give(this.#slots.get(agent)!);
    this.#slots.delete(agent);
  }

  count(agent: HostedAgent, what: number): number {
    return agent.counts[agent.at + what]!;
  }

  listen(id: string, events: SiteEvents): void {
    this.#events.set(id, events);
  }
}

/** An agent's place in the space's own thread. A loop there cannot be ended: one that ignores its signal goes on. */
class OwnSite implements Site {
  readonly thread = null;
  #own: OwnThread;
  #agent: HostedAgent;
  #spec: OwnAgentSpec;
  #events: SiteEvents;
  #create: () => LinkedAgent;
  #version: NextVersion | undefined;

  constructor(own: OwnThread, agent: HostedAgent, spec: OwnAgentSpec, events: SiteEvents) {
    this.#own = own;
    this.#agent = agent;
    this.#spec = spec;
    this.#events = events;
    this.#create = spec.create as unknown as () => LinkedAgent;
    own.listen(spec.id, events);
  }

  async start(version: NextVersion | undefined): Promise<void> {
    if (version && version !== this.#version) this.#create = await this.#versioned(version);
    this.#version = version;
    await this.#agent.start(this.#create);
  }

  async retire(timeoutMs: number): Promise<boolean> {
    this.#tellStuck(await this.#agent.retire(undefined, timeoutMs), timeoutMs);
    return true;
  }

  async stop(reason: Error, timeoutMs: number): Promise<void> {
    try {
      this.#tellStuck(await this.#own.host.stop(this.#spec.id, reason, timeoutMs), timeoutMs);
    } finally {
      this.#own.forget(this.#agent);
    }
  }

  async reload(next: NextVersion): Promise<void> {
    const create = await this.#versioned(next);
    await this.#agent.swap(create);
    this.#create = create;
    this.#version = next;
  }

  count(what: number): number {
    return this.#own.count(this.#agent, what);
  }

  async #versioned(version: NextVersion): Promise<() => LinkedAgent> {
    const Cls = await loadClass<new (id: string, init: unknown) => LinkedAgent>(version.bundleUrl, this.#spec.className);
    const { id, init } = this.#spec;
    return () => new Cls(id, init);
  }

  #tellStuck(loops: string[], timeoutMs: number): void {
    if (loops.length > 0) this.#events.stuck(loops, timeoutMs, false);
  }
}
