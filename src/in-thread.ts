import type { Agent } from "./agent.js";
import { ATTACH, DELIVER, DETACH, PEER_GONE, WANTS_VALUE, type AgentLink, type LinkedAgent } from "./agent-link.js";
import { AgentRoute, type AgentStats, type MailboxOptions } from "./agent-route.js";
import { answerTo } from "./answer.js";
import { markedFor } from "./answer-mark.js";
import type { ComputePool } from "./compute.js";
import { debugRefusal, type DebugMode } from "./debug-gate.js";
import { AgentActivity } from "./activity.js";
import { AgentCrashedError, LoopFailedError } from "./errors.js";
import type { ActivitySpec } from "./loops.js";
import type { Message } from "./message.js";
import type { MessageRouter } from "./router.js";
import { RestartBudget, restartPolicy } from "./spaces/restart-budget.js";
import type { RestartOptions } from "./spaces/supervisor.js";
import { classOf, type NextVersion, type Reloadable } from "./live/reload.js";
import { deliverInOrder, holding, swapInstance, type SwapHost } from "./live/swap.js";

/** An agent in the space, seen from the space. */
export interface Member extends Reloadable {
  /**
   * Runs `beforeRemove`, takes the agent out of the router and releases what
   * it holds. An agent in a worker that does not finish within `timeoutMs`
   * is terminated.
   */
  stop(reason: Error, timeoutMs: number): Promise<void>;
  stats(): AgentStats;
  /** Counts something from its thread that the space dropped as malformed or forged. */
  dropped(): void;
  /** What the inspector shows of it: read-only, cheap, called a few times a second at most. */
  describe(): MemberDescription;
}

/** An agent's class, thread and state, as its member knows them. */
export interface MemberDescription {
  className: string;
  /** Stands for the worker thread it runs in (shared by its thread-mates); null: the space's own thread. */
  thread: object | null;
  /** "restarting": crashed, its next instance not yet running; "stopping": being removed. */
  state: "running" | "restarting" | "stopping";
}

export type LinkOptions = Omit<AgentLink, "post" | "taken" | "compute" | "shutdown">;


/** A route for `id` whose refusals (a full mailbox) are answered through `router`. */
export function routeFor(router: MessageRouter, id: string, mailbox: MailboxOptions): AgentRoute {
  return new AgentRoute(id, mailbox, (message: Message, error: Error) => router.route(answerTo(message, id, false, error)));
}

/** Where a pool thread finds the agent's class, for its `offload` actions. */
function classModule(agent: Agent): { moduleUrl: string; className: string; bundled: boolean } {
  const Cls = agent.constructor as { name: string; module?: string };
  if (!Object.hasOwn(Cls, "module") || typeof Cls.module !== "string") {
    return { moduleUrl: "", className: Cls.name, bundled: true }; // the pool thread then says the module is missing
  }
  return { moduleUrl: Cls.module, className: Cls.name, bundled: false };
}

/** What every agent of a space that lives in the calling thread shares. */
export interface ThreadContext {
  router: MessageRouter;
  pool: ComputePool;
  /** The space's agents in this thread, by id. */
  neighbours: Map<string, LinkedAgent>;
  /** Who may call the debug actions. */
  debug: DebugMode;
  /** Removes agent `id` as `space.remove` does: it shut itself down, or failed for good. */
  leave(id: string): void;
  /** An `error` event; `outcome` says what the space does about it. */
  report(error: Error, outcome?: string): void;
}

export interface InThreadOptions {
  /** A foreground agent (or a handle's): held by the caller, trusted with the debug actions. */
  foreground?: boolean;
  /** What follows a failed loop or timer (default: removed). */
  restart?: RestartOptions;
  /** How long a failed instance's other loops may take to stop before a restart (default 10 s). */
  stopTimeoutMs?: number;
  /** Where its class comes from and what it was made with, so that `space.reload` can swap it. */
  source?: { module: string; init: unknown };
}

/**
 * Puts an agent in the calling thread into the router: its messages go
 * straight into its mailbox, never cloned. Rejects, leaving nothing behind,
 * if the constructor or `afterAdd` throws.
 */
export async function hostInThread<A extends Agent>(
  context: ThreadContext,
  create: () => A,
  link: LinkOptions,
  mailbox: MailboxOptions,
  options: InThreadOptions = {},
): Promise<{ agent: A; member: Member }> {
  const agent = create();
  const route = routeFor(context.router, agent.id, mailbox);
  const member = new InThreadMember(context, create, link, route, options);
  await context.router.add(agent.id, route);
  try {
    await member.run(agent);
  } catch (error) {
    await context.router.delete(agent.id, error as Error);
    throw error;
  }
  return { agent, member };
}

/**
 * An agent in the calling thread, seen from the space: one instance at a
 * time behind one route. A failed loop replaces the instance (as a crash
 * does in a worker) when its restart policy allows; the route holds messages
 * meanwhile.
 */
class InThreadMember implements Member {
  #context: ThreadContext;
  #create: () => Agent;
  #link: LinkOptions;
  #route: AgentRoute;
  #foreground: boolean;
  #stopTimeoutMs: number;
  #budget: RestartBudget;
  #className = "";
  #agent: Agent | undefined;
  #activity: AgentActivity | undefined;
  #state: MemberDescription["state"] = "running";
  /** A failed instance being stopped and the next one started. */
  #replacing: Promise<void> | undefined;
  #cancelWait: (() => void) | undefined;
  #source: InThreadOptions["source"];

  constructor(context: ThreadContext, create: () => Agent, link: LinkOptions, route: AgentRoute, options: InThreadOptions) {
    this.#context = context;
    this.#create = create;
    this.#link = link;
    this.#route = route;
    this.#foreground = options.foreground ?? false;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.#budget = new RestartBudget(restartPolicy(options.restart ?? {}));
    this.#source = options.source;
  }

  get sourceModule(): string | undefined {
    return this.#source?.module;
  }

  /** Links `agent`, runs its `afterAdd`, then starts its loops; rejects (leaving it unlinked) if `afterAdd` throws. */
  async run(agent: Agent): Promise<void> {
    const { neighbours } = this.#context;
    const linked = agent as unknown as LinkedAgent;
    const route = this.#route;
    this.#className = agent.constructor.name;
    linked[ATTACH](this.#linkFor(agent));
    neighbours.set(agent.id, linked);
    this.#connect(linked);
    try {
      await agent.afterAdd();
    } catch (error) {
      if (neighbours.get(agent.id) === linked) neighbours.delete(agent.id);
      route.disconnect();
      linked[DETACH](error as Error);
      throw error;
    }
    this.#agent = agent;
    this.#startActivity(agent);
  }

  #connect(linked: LinkedAgent): void {
    this.#route.connect({
      message: (message) => linked[DELIVER](message),
      gone: (peerId, reason) => linked[PEER_GONE](peerId, reason),
    });
  }

  #startActivity(agent: Agent): void {
    const route = this.#route;
    if (!AgentActivity.any(agent)) return;
    this.#activity = new AgentActivity(agent, {
      failed: (spec, error) => this.#failed(agent, spec, error),
      changed: (loops, timers) => {
        if (agent !== this.#agent) return;
        route.stats.loops = loops;
        route.stats.timers = timers;
      },
    });
    this.#activity.start();
  }

  async stop(reason: Error, timeoutMs: number): Promise<void> {
    this.#state = "stopping";
    this.#cancelWait?.();
    await this.#replacing;
    const agent = this.#agent;
    const activity = this.#activity;
    this.#agent = this.#activity = undefined;
    if (agent) await this.#retire(agent, activity, timeoutMs);
    const { id } = this.#route;
    this.#route.close(reason);
    if (agent && this.#context.neighbours.get(id) === (agent as unknown as LinkedAgent)) this.#context.neighbours.delete(id);
    await this.#context.router.delete(id, reason);
    if (agent) (agent as unknown as LinkedAgent)[DETACH](reason);
  }

  stats(): AgentStats {
    return { ...this.#route.stats };
  }

  dropped(): void {
    this.#route.stats.dropped++;
  }

  describe(): MemberDescription {
    return { className: this.#className, thread: null, state: this.#state };
  }

  /** Swaps the running instance for one of `next` (see `swapInstance`); after any replacement under way. */
  reload(next: NextVersion): Promise<void> {
    const swapped = (this.#replacing ?? Promise.resolve()).then(() => this.#swap(next));
    this.#replacing = swapped.catch(() => undefined);
    return swapped;
  }

  async #swap(next: NextVersion): Promise<void> {
    const { id } = this.#route;
    const Cls = await classOf<new (id: string, init: unknown) => Agent>(next.bundleUrl, this.#className);
    const init = this.#source?.init;
    const create = (): Agent => new Cls(id, init);
    const old = this.#agent;
    // Restarting or stopping: the next instance, if any, is made from the new version.
    if (!old || this.#state !== "running") return void (this.#create = create);
    await swapInstance(old as unknown as LinkedAgent, () => create() as unknown as LinkedAgent, this.#swapHost());
    this.#create = create;
  }

  #swapHost(): SwapHost {
    const route = this.#route;
    let waiting: Message[] = [];
    return {
      hold: (old) => {
        waiting = [];
        route.connect({ message: holding(waiting, (message) => old[DELIVER](message)), gone: (peer, why) => old[PEER_GONE](peer, why) });
      },
      resume: (agent, queued) => {
        deliverInOrder(queued, waiting, (message) => agent[DELIVER](message));
        this.#connect(agent);
      },
      stopActivity: async () => {
        await this.#activity?.stop(this.#stopTimeoutMs);
        this.#activity = undefined;
        route.stats.loops = route.stats.timers = 0;
      },
      startActivity: (agent) => this.#startActivity(agent as unknown as Agent),
      attach: (fresh) => {
        const agent = fresh as unknown as Agent;
        fresh[ATTACH](this.#linkFor(agent));
        this.#context.neighbours.set(agent.id, fresh);
        this.#agent = agent;
        this.#className = agent.constructor.name;
      },
    };
  }

  #linkFor(agent: Agent): AgentLink {
    const { router, pool, neighbours, debug } = this.#context;
    const route = this.#route;
    const foreground = this.#foreground;
    const onBroker = this.#link.json === true; // messages travel as JSON only through a broker
    return {
      ...this.#link,
      post: (message) => {
        route.sent(message);
        const refusal = debugRefusal(message, foreground, debug);
        if (refusal) return router.route(answerTo(message, message.to, false, refusal));
        // A broker would carry answers nobody here looks at: say so, and they are left out.
        router.route(onBroker ? markedFor(message, agent as unknown as LinkedAgent) : message);
      },
      taken: () => route.taken(1),
      compute: (request) => pool.run(request, classModule(agent)),
      // The value answering a plain send from a neighbour that neither awaits nor
      // handles values, with nobody watching the space, would only be dropped on
      // arrival: it is counted as sent and not built (a pipelined sender's answers
      // are half of LocalSpace's work).
      valueUnseen: (request) => {
        if (router.watched() || neighbours.get(request.from)?.[WANTS_VALUE](request.meta.id) !== false) return false;
        route.stats.sent++;
        return true;
      },
      shutdown: () => {
        if (agent === this.#agent && this.#state === "running") this.#context.leave(agent.id);
      },
    };
  }

  /** Stops an instance's loops (for `timeoutMs` at most: one here cannot be ended), then says goodbye. */
  async #retire(agent: Agent, activity: AgentActivity | undefined, timeoutMs: number): Promise<void> {
    const stuck = activity ? await activity.stop(timeoutMs) : [];
    if (stuck.length > 0) {
      const { id } = this.#route;
      const names = stuck.map((name) => `"${name}"`).join(", ");
      this.#context.report(
        new AgentCrashedError(id, `agent "${id}": ${names} did not stop within ${timeoutMs} ms of its signal aborting`),
        "beforeRemove runs while it goes on (a loop in the space's own thread cannot be ended)",
      );
    }
    this.#route.stats.loops = this.#route.stats.timers = 0;
    try {
      await agent.beforeRemove();
    } catch (error) {
      this.#link.reportError(error);
    }
  }

  #failed(agent: Agent, spec: ActivitySpec, error: unknown): void {
    if (agent !== this.#agent || this.#state !== "running") return;
    this.#route.stats.loopFailures++;
    const failure = new LoopFailedError(agent.id, spec.name, spec.kind, error);
    const delay = this.#budget.delay(false);
    if (delay === undefined) return this.#giveUp(failure);
    this.#context.report(failure, `restarting it in ${delay} ms`);
    this.#state = "restarting";
    this.#replacing = this.#replace(failure, delay).catch((problem: unknown) => this.#link.reportError(problem));
  }

  #giveUp(failure: AgentCrashedError): void {
    this.#context.report(failure, "removing it from the space (its restart policy allows no restart)");
    // Requests waiting on it end with the failure, not a bare "removed".
    this.#context.router.interrupted(this.#route.id, failure);
    this.#context.leave(this.#route.id);
  }

  /** Stops the failed instance, then starts fresh ones until one runs, the policy gives up, or the agent is removed. */
  async #replace(failure: AgentCrashedError, delay: number): Promise<void> {
    const { id } = this.#route;
    const agent = this.#agent!;
    const activity = this.#activity;
    this.#agent = this.#activity = undefined;
    // From now on messages wait for the next instance; requests the failed one holds end.
    this.#route.disconnect();
    this.#context.router.interrupted(id, failure);
    await this.#retire(agent, activity, this.#stopTimeoutMs);
    if (this.#context.neighbours.get(id) === (agent as unknown as LinkedAgent)) this.#context.neighbours.delete(id);
    (agent as unknown as LinkedAgent)[DETACH](failure);
    for (;;) {
      await this.#wait(delay);
      if (this.#stopping()) return;
      this.#budget.spend();
      this.#route.stats.restarts++;
      try {
        await this.run(this.#create());
        if (this.#state === "restarting") this.#state = "running";
        this.#context.router.restarted(id);
        return;
      } catch (error) {
        if (this.#stopping()) return;
        const crash = new AgentCrashedError(id, `agent "${id}" failed to restart: ${(error as Error).message}`, { cause: error });
        const next = this.#budget.delay(false);
        if (next === undefined) return this.#giveUp(crash);
        this.#context.report(crash, `restarting it in ${next} ms`);
        delay = next;
      }
    }
  }

  /** Read afresh after each await: `stop` may have run meanwhile. */
  #stopping(): boolean {
    return this.#state === "stopping";
  }

  /** Waits `ms`, or less if the agent is removed meanwhile. */
  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timeout = setTimeout(resolve, ms);
      this.#cancelWait = () => {
        clearTimeout(timeout);
        resolve();
      };
    });
  }
}
