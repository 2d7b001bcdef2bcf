import { ATTACH, DETACH, PEER_GONE, PROCESS, RECEIVE, type AgentLink, type LinkedAgent } from "../agent-link.js";
import { AgentCrashedError, LoopFailedError } from "../errors.js";
import type { Message } from "../message.js";
import { AgentActivity } from "./activity.js";
import { DurableState, type StateSink } from "./durable-state.js";
import { LOOPS, TIMERS, WORKING, type CountsSlot } from "./counters.js";
import { Mailbox, type MailboxOptions, type MailboxOwner } from "./mailbox.js";
import { SETTLE_MS, swapInstance } from "./swap.js";

/** What a host gives each of its agents. */
export interface HostServices {
  /** The host itself, as the router knows it. */
  readonly home: object;
  /** A link for `agent`'s current instance (post, compute, shutdown…). */
  link(agent: HostedAgent, instance: LinkedAgent): AgentLink;
  /** Answers `message` with `error` on the agent's behalf (a full mailbox, a departure). */
  refuse(message: Message, id: string, error: Error): void;
  /** A loop or timer of the agent's current instance threw. */
  failed(id: string, error: LoopFailedError): void;
  /** An error with nobody to answer (a failing callback). */
  reportError(error: unknown): void;
}

/** How an agent is placed in a host. */
export interface Placing {
  id: string;
  mailbox: MailboxOptions;
  /** Where the host keeps its counts (see counters.ts). */
  counts: CountsSlot;
  /** A foreground agent (or a handle's): held by the caller, trusted with the debug actions. */
  trusted: boolean;
  /** Thread-mates deliver to it in the host from the start (the space's own thread); else once the space says so. */
  local: boolean;
  /** Where a durable agent keeps its state; undefined: it keeps none. */
  durable?: StateSink | undefined;
}

/**
 * One agent in a host, across its instances: its mailbox (kept through
 * restarts and reloads), the instance that takes from it, and that
 * instance's loops and timers.
 */
export class HostedAgent implements MailboxOwner {
  readonly id: string;
  readonly trusted: boolean;
  /** Its counts (see counters.ts): `values[at + SENT]`… */
  readonly counts: Float64Array;
  readonly at: number;
  /** Thread-mates hand messages to it in the host (see AgentHost: the fence). */
  local: boolean;
  /** The thread-mate it last sent an action to, as the host's index recorded: a sender mostly asks the same one again. */
  lastAskedHere: string | undefined;
  /** The same, as the router's index recorded (see MessageRouter.asked). */
  lastAsked: string | undefined;
  /** A durable agent's state, across its instances. */
  readonly durable: DurableState | undefined;
  #services: HostServices;
  #mailbox: Mailbox;
  #instance: LinkedAgent | undefined;
  #activity: AgentActivity | undefined;
  /** Its instance's afterAdd has settled: it gets a goodbye (beforeRemove) when it stops. */
  #running = false;
  /** Why its current instance failed (a loop or timer threw), until it is retired. */
  #failure: LoopFailedError | undefined;

  constructor(placing: Placing, services: HostServices) {
    this.id = placing.id;
    this.trusted = placing.trusted;
    this.counts = placing.counts.values;
    this.at = placing.counts.at;
    this.local = placing.local;
    this.durable = placing.durable && new DurableState(placing.id, placing.durable);
    this.#services = services;
    this.#mailbox = new Mailbox(placing.id, placing.mailbox, placing.counts.values, placing.counts.at, this);
  }

  /** Its mailbox refuses `message` (full, or closed): answered on its behalf. */
  refuse(message: Message, error: Error): void {
    this.#services.refuse(message, this.id, error);
  }

  holdFailed(error: unknown): void {
    this.#services.reportError(error);
  }

  /** The instance taking its messages now, if any (none while it restarts). */
  get instance(): LinkedAgent | undefined {
    return this.#instance;
  }

  deliver(message: Message): void {
    this.#mailbox.deliver(message);
  }

  /** From a thread-mate, in this host: held while the fence closes (see AgentHost), else delivered. */
  fromMate(message: Message): void {
    this.#mailbox.deliverFromMate(message);
  }

  /** Thread-mates' messages to it are held here from now on, until `openFence`. */
  fence(): void {
    this.#mailbox.fence();
  }

  /** What was held is delivered, and thread-mates deliver directly from now on. */
  openFence(): void {
    this.local = true;
    this.#mailbox.openFence();
  }

  /** Between `fence` and `openFence`. */
  get fencing(): boolean {
    return this.#mailbox.fencing;
  }

  /** Where thread-mates' broadcasts reach it directly: the router leaves it out of broadcasts from there. */
  get localIn(): object | undefined {
    return this.local ? this.#services.home : undefined;
  }

  peerGone(peerId: string, reason: Error): void {
    this.#instance?.[PEER_GONE](peerId, reason);
  }

  /**
   * Makes an instance with `create`, gives it its kept state (a durable
   * agent), links it, runs its `afterAdd`, then starts its loops. Messages
   * reach it from then on (afterAdd may await answers). Rejects, leaving no
   * instance, if any of them throws.
   */
  async start(create: () => LinkedAgent): Promise<void> {
    this.#failure = undefined;
    const instance = create();
    if (this.durable) await this.durable.restore(instance);
    this.#attach(instance);
    try {
      const added = instance.afterAdd();
      // Most afterAdds do nothing: awaited only when there is something to wait for (a turn of the queue saved per add).
      if (added instanceof Promise) await added;
    } catch (error) {
      if (this.#instance === instance) this.#drop(instance, error as Error);
      throw error;
    }
    if (this.#instance !== instance) return; // retired meanwhile
    this.#running = true;
    this.#startActivity(instance);
  }

  /**
   * Stops the instance (its loops for `timeoutMs` at most, then its
   * `beforeRemove`) and lets it go; the mailbox stays, holding what arrives
   * for the next instance. Resolves with the names of loops that had not
   * stopped by then.
   */
  async retire(reason: Error | undefined, timeoutMs: number): Promise<string[]> {
    const instance = this.#instance;
    const why = reason ?? this.#failure ?? new AgentCrashedError(this.id, `agent "${this.id}" was stopped for a restart`);
    this.#failure = undefined;
    if (!instance) return [];
    const activity = this.#activity;
    const running = this.#running;
    this.#activity = undefined;
    this.#running = false;
    this.#instance = undefined;
    this.#mailbox.detach();
    const stuck = activity ? await activity.stop(timeoutMs) : [];
    this.#setActivity(0, 0);
    // Its actions still awaiting end with it: none of them will settle through its link.
    this.counts[this.at + WORKING] = 0;
    if (running) {
      try {
        await instance.beforeRemove();
      } catch (error) {
        this.#services.reportError(error);
      }
    }
    instance[DETACH](why);
    return stuck;
  }

  /** Retires the instance and closes the mailbox: what waits in it is refused with `reason`. */
  async stop(reason: Error, timeoutMs: number): Promise<string[]> {
    try {
      return await this.retire(reason, timeoutMs);
    } finally {
      this.#mailbox.close(reason);
    }
  }

  /** Closes the mailbox of an agent with no instance: what waits in it is refused with `reason`. */
  close(reason: Error): void {
    this.#mailbox.close(reason);
  }

  /**
   * A loop failed: the instance takes nothing more (what it had queued goes
   * with it, as with a crash); arrivals are held for the next instance.
   */
  halt(): void {
    this.#mailbox.detach();
  }

  /** Swaps the instance for one `create` makes, carrying its state (see swapInstance). */
  async swap(create: () => LinkedAgent): Promise<void> {
    const old = this.#instance;
    if (!old || !this.#running) throw new AgentCrashedError(this.id, `agent "${this.id}" is not running: it cannot be reloaded now`);
    await swapInstance(old, create, {
      pause: () => this.#mailbox.pause(),
      resume: (agent) => this.#mailbox.resume(agent),
      stopActivity: async () => {
        // Bounded as the wait for its actions is: a loop that ignores its signal must not hang the reload.
        await this.#activity?.stop(SETTLE_MS);
        this.#activity = undefined;
        this.#setActivity(0, 0);
      },
      startActivity: (agent) => this.#startActivity(agent),
      attach: (fresh) => {
        fresh[ATTACH](this.#services.link(this, fresh));
        this.#instance = fresh;
      },
    });
  }

  #attach(instance: LinkedAgent): void {
    instance[ATTACH](this.#services.link(this, instance));
    this.#instance = instance;
    this.#mailbox.attach(instance);
  }

  #drop(instance: LinkedAgent, reason: Error): void {
    this.#instance = undefined;
    this.#mailbox.detach();
    instance[DETACH](reason);
  }

  #startActivity(instance: LinkedAgent): void {
    if (!AgentActivity.any(instance)) return;
    this.#activity = new AgentActivity(instance, {
      failed: (spec, error) => {
        if (this.#instance !== instance) return;
        this.#failure = new LoopFailedError(this.id, spec.name, spec.kind, error);
        this.halt();
        this.#services.failed(this.id, this.#failure);
      },
      changed: (loops, timers) => {
        if (this.#instance === instance) this.#setActivity(loops, timers);
      },
    });
    this.#activity.start();
  }

  #setActivity(loops: number, timers: number): void {
    this.counts[this.at + LOOPS] = loops;
    this.counts[this.at + TIMERS] = timers;
  }
}
