import { AgentCrashedError, AgentStartError, describeError, type LoopFailedError } from "./errors.js";
import { DEPTH, ERRORS, LOOPS, RECEIVED, SENT, TIMERS, WORKING } from "./host/counters.js";
import type { Aftermath, LifecycleEvent } from "./lifecycle.js";
import { RestartBudget, type RestartOptions } from "./restart-policy.js";
import type { MessageRouter, Route } from "./router.js";
import type { AgentStats } from "./stats.js";
import type { NextVersion } from "./bundle.js";

/**
 * Where one agent's instances run, as its supervisor drives them: a host
 * in the space's own thread, or a worker thread's.
 */
export interface Site {
  /** Stands for the thread it runs in (shared by its thread-mates); null: the space's own thread. */
  readonly thread: object | null;
  /** Starts an instance of `version` (its class as added, if undefined): constructor, `afterAdd`, loops; rejects if either throws. */
  start(version: NextVersion | undefined): Promise<void>;
  /** Stops the failed instance, keeping its mailbox for the next. False: its thread had to be ended, the next goes elsewhere. */
  retire(timeoutMs: number): Promise<boolean>;
  /** Stops the instance for good (loops, `beforeRemove`): what waits for it is refused with `reason`. */
  stop(reason: Error, timeoutMs: number): Promise<void>;
  /** Swaps the running instance for one of `next` (see swapInstance). */
  reload(next: NextVersion): Promise<void>;
  /** What its host counted (see counters.ts), since this site took the agent. */
  count(what: number): number;
}

/** What a site tells the supervisor of its agent. */
export interface SiteEvents {
  /** The site's thread died, and the instance with it. */
  crashed(error: AgentCrashedError, code: number): void;
  /** A loop or timer threw: the instance failed, its thread runs on. */
  failed(error: LoopFailedError): void;
  /** The agent called `shutdown()`. */
  shutdown(): void;
  /**
   * Stopping it, `loops` (names, where known) went on `timeoutMs` after
   * their signal aborted: the thread was ended, or (the space's own thread)
   * they go on while `beforeRemove` runs.
   */
  stuck(loops: string[], timeoutMs: number, threadEnded: boolean): void;
}

/** What the supervisor tells its space. */
export interface SupervisorEvents {
  lifecycle(event: LifecycleEvent): void;
  /** An `error` event: a failure, and what the space does about it. */
  report(error: Error, aftermath?: Aftermath): void;
  /** Agent `id` must go as `space.remove` takes it out (it asked to, or its policy allows no more restarts). */
  leave(id: string, cause: "shutdown" | "failed", reason?: Error): void;
}

/**
 * Where one agent's instances are placed, as its supervisor asks: one object
 * per agent (a swarm has a million), not a closure per question.
 */
export interface AgentPlacement {
  /** Actions its route holds while the agent runs nowhere: its mailbox depth then. */
  held(): number;
  /** Answers what the route still holds, as the agent leaves for good. */
  close(reason: Error): void;
  /** A site for an instance: the first, and the next whenever the last one's thread was lost. `version`: its class's latest code. */
  place(events: SiteEvents, version: NextVersion | undefined): Site;
}

export interface SupervisedSpec {
  id: string;
  className: string;
  router: MessageRouter;
  /** Its route, in the router through every restart. */
  route: Route;
  placement: AgentPlacement;
  restart: Required<RestartOptions>;
  /** How long a failed instance's loops may take to stop before a restart (the space's remove timeout). */
  stopTimeoutMs: number;
  /** The source module (file: URL) its class comes from, for `space.reload`. */
  sourceModule?: string;
  events: SupervisorEvents;
}

/** An agent in the space, seen from the space. */
export interface Member {
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
  /** The source module (a file: URL) its class comes from; undefined: it cannot be reloaded. */
  readonly sourceModule?: string | undefined;
  /** Swaps its running instance for one of `next`; restarts from then on start the new version. */
  reload?(next: NextVersion): Promise<void>;
}

/** An agent's class, thread and state, as its member knows them. */
export interface MemberDescription {
  className: string;
  /** Stands for the worker thread it runs in (shared by its thread-mates); null: the space's own thread. */
  thread: object | null;
  /** "restarting": it failed, its next instance not yet running; "stopping": being removed. */
  state: "running" | "restarting" | "stopping";
}

/**
 * Keeps one agent running, wherever its instances run: starts it, applies
 * its restart policy after a crash or a failed loop (as in Erlang/OTP
 * supervisors), reloads and stops it. Its route stays in the router through
 * restarts; messages wait, in its mailbox or its route, for the next instance.
 */
export class Supervisor implements Member {
  #spec: SupervisedSpec;
  #site: Site | undefined;
  /** Made at its first failure: most agents never fail. */
  #restartBudget: RestartBudget | undefined;
  #state: MemberDescription["state"] = "running";
  /** A restart under way (a failed instance being retired, a backoff, a start). */
  #replacing: Promise<void> | undefined;
  #cancelWait: (() => void) | undefined;
  /** Its class's code after the last reload; undefined: as it was added. */
  #version: NextVersion | undefined;
  #restarts = 0;
  #loopFailures = 0;
  #dropped = 0;
  /** Counts of the sites it lost (a thread that died), added to the current one's. */
  #earlier: { received: number; sent: number; errors: number } | undefined;

  private constructor(spec: SupervisedSpec) {
    this.#spec = spec;
  }

  /** Takes the id in the router and starts the first instance; rejects (leaving nothing) if that fails. */
  static async start(spec: SupervisedSpec): Promise<Supervisor> {
    const supervisor = new Supervisor(spec);
    const added = spec.router.add(spec.id, spec.route);
    if (added) await added;
    try {
      await supervisor.#startInstance();
    } catch (error) {
      // A crash of its thread meanwhile may have scheduled a restart: there is to be none.
      supervisor.#state = "stopping";
      supervisor.#cancelWait?.();
      await supervisor.#leave(error as Error, spec.stopTimeoutMs);
      // Named after its agent, whichever thread it failed in; what it threw is the cause.
      throw new AgentStartError(spec.id, `agent "${spec.id}" (${spec.className}) failed to start: ${describeError(error)}`, { cause: error });
    }
    return supervisor;
  }

  get sourceModule(): string | undefined {
    return this.#spec.sourceModule;
  }

  stats(): AgentStats {
    const site = this.#site;
    const earlier = this.#earlier;
    return {
      received: (earlier?.received ?? 0) + (site?.count(RECEIVED) ?? 0),
      sent: (earlier?.sent ?? 0) + (site?.count(SENT) ?? 0),
      errors: (earlier?.errors ?? 0) + (site?.count(ERRORS) ?? 0),
      restarts: this.#restarts,
      mailboxDepth: (site?.count(DEPTH) ?? 0) + this.#spec.placement.held(),
      dropped: this.#dropped,
      loops: site?.count(LOOPS) ?? 0,
      timers: site?.count(TIMERS) ?? 0,
      loopFailures: this.#loopFailures,
      working: site?.count(WORKING) ?? 0,
    };
  }

  dropped(): void {
    this.#dropped++;
  }

  describe(): MemberDescription {
    return { className: this.#spec.className, thread: this.#site?.thread ?? null, state: this.#state };
  }

  /** Swaps the running instance for one of `next`; restarts from then on start the new version. */
  reload(next: NextVersion): Promise<void> {
    const swapped = (this.#replacing ?? Promise.resolve()).then(() => this.#swap(next));
    this.#replacing = swapped.catch(() => undefined);
    return swapped;
  }

  /** Always leaves: whatever its thread does, the id is free once this settles. */
  async stop(reason: Error, timeoutMs: number): Promise<void> {
    this.#state = "stopping";
    this.#cancelWait?.();
    await this.#replacing;
    await this.#leave(reason, timeoutMs);
  }

  async #swap(next: NextVersion): Promise<void> {
    const site = this.#site;
    // Only once it runs: a version that fails to start is not restarted into either.
    if (site && this.#state === "running") await site.reload(next);
    this.#version = next;
    if (site && this.#state === "running") this.#spec.events.lifecycle({ type: "reloaded", id: this.#spec.id });
  }

  async #startInstance(): Promise<void> {
    let site = this.#site;
    if (!site) {
      const watch = new SiteWatch(this);
      site = this.#spec.placement.place(watch, this.#version);
      watch.site = site;
      this.#site = site;
    }
    await site.start(this.#version);
    // Its thread died as it started: the start did not take.
    if (this.#site !== site) throw new AgentCrashedError(this.#spec.id, `agent "${this.#spec.id}" lost its thread as it started`);
  }

  /** The agent called `shutdown()` (see SiteWatch). */
  shutdownAt(site: Site): void {
    if (site === this.#site && this.#state === "running") this.#spec.events.leave(this.#spec.id, "shutdown");
  }

  /** See SiteEvents.stuck. */
  stuck(loops: string[], timeoutMs: number, threadEnded: boolean): void {
    const { id, events } = this.#spec;
    const names = loops.map((name) => `"${name}"`).join(", ");
    const error = threadEnded
      ? new AgentCrashedError(id, `agent "${id}" did not stop within ${timeoutMs} ms (a loop that ignores its signal, or a beforeRemove that does not end): its worker thread was ended`)
      : new AgentCrashedError(id, `agent "${id}": ${names} did not stop within ${timeoutMs} ms of its signal aborting`);
    events.lifecycle({ type: "stuck", id, loops, timeoutMs, threadEnded });
    events.report(error, threadEnded ? undefined : "stuck");
  }

  /** The site's thread died under the instance (see SiteWatch). */
  crashedAt(site: Site, error: AgentCrashedError, code: number): void {
    if (site !== this.#site) return;
    this.#lose(site);
    const { router, id, events } = this.#spec;
    // Requests waiting on the dead instance can no longer be answered; new messages wait for the next.
    router.interrupted(id, error);
    events.lifecycle({ type: "crashed", id, error });
    // A restart under way goes on, elsewhere: a start it was making fails, and counts as a failure there.
    if (this.#state === "restarting") return;
    if (this.#state === "stopping") return events.report(error, "none");
    this.#afterFailure(error, this.#budget().delay(code === 0), (delay) => this.#restartAfter(delay));
  }

  /**
   * A loop or timer threw: a failure of this agent alone, its thread runs
   * on. The instance is stopped as by remove (its other loops awaited, then
   * beforeRemove), then restarted as its policy allows, or removed.
   */
  failedAt(site: Site, error: LoopFailedError): void {
    if (site !== this.#site || this.#state !== "running") return;
    const { router, id, events } = this.#spec;
    this.#loopFailures++;
    // Requests waiting on it end with the failure (its thread-mates' were told in their host).
    router.interrupted(id, error);
    events.lifecycle({ type: "loop-failed", id, loop: error.loop, error });
    this.#afterFailure(error, this.#budget().delay(false), async (delay) => {
      if (!(await site.retire(this.#spec.stopTimeoutMs)) && this.#site === site) this.#lose(site);
      await this.#restartAfter(delay);
    });
  }

  /** What follows a failure: the restart `restart` makes after `delay`, or the agent's removal when the policy allows none. */
  #afterFailure(error: AgentCrashedError, delay: number | undefined, restart: (delay: number) => Promise<void>): void {
    const { id, events } = this.#spec;
    if (delay === undefined) {
      events.report(error, "remove");
      return events.leave(id, "failed", error);
    }
    events.report(error, { restartInMs: delay });
    events.lifecycle({ type: "restarting", id, inMs: delay });
    this.#state = "restarting";
    this.#replacing = restart(delay).catch((problem: unknown) => events.report(problem instanceof Error ? problem : new Error(String(problem))));
  }

  /** Starts fresh instances after `delay`, until one runs, the policy gives up, or the agent is removed. */
  async #restartAfter(delay: number): Promise<void> {
    const { id, router, events } = this.#spec;
    for (;;) {
      await this.#wait(delay);
      if (this.#stopping()) return;
      this.#budget().spend();
      this.#restarts++;
      try {
        await this.#startInstance();
        if (this.#stopping()) return;
        this.#state = "running";
        router.restarted(id);
        events.lifecycle({ type: "restarted", id });
        return;
      } catch (error) {
        if (this.#stopping()) return;
        const crash = new AgentCrashedError(id, `agent "${id}" failed to restart: ${(error as Error).message}`, { cause: error });
        events.lifecycle({ type: "crashed", id, error: crash });
        const next = this.#budget().delay(false);
        if (next === undefined) {
          events.report(crash, "remove");
          return events.leave(id, "failed", crash);
        }
        events.report(crash, { restartInMs: next });
        events.lifecycle({ type: "restarting", id, inMs: next });
        delay = next;
      }
    }
  }

  /** Out for good: its instance stopped, what its route held answered with `reason`, out of the router. */
  async #leave(reason: Error, timeoutMs: number): Promise<void> {
    const site = this.#site;
    const { router, id, placement } = this.#spec;
    try {
      if (site) await site.stop(reason, timeoutMs);
    } finally {
      if (this.#site === site) this.#site = undefined;
      placement.close(reason);
      await router.delete(id, reason);
    }
  }

  /** The site is gone (its thread died, or the agent left it): what it counted stays in the stats. */
  #lose(site: Site): void {
    const earlier = (this.#earlier ??= { received: 0, sent: 0, errors: 0 });
    earlier.received += site.count(RECEIVED);
    earlier.sent += site.count(SENT);
    earlier.errors += site.count(ERRORS);
    this.#site = undefined;
  }

  #budget(): RestartBudget {
    return (this.#restartBudget ??= new RestartBudget(this.#spec.restart));
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

/**
 * What one site tells its supervisor (see SiteEvents), naming the site:
 * what a site already replaced says is ignored there. One object per site
 * rather than a closure per event.
 */
class SiteWatch implements SiteEvents {
  site: Site | undefined;
  readonly #supervisor: Supervisor;

  constructor(supervisor: Supervisor) {
    this.#supervisor = supervisor;
  }

  crashed(error: AgentCrashedError, code: number): void {
    if (this.site) this.#supervisor.crashedAt(this.site, error, code);
  }

  failed(error: LoopFailedError): void {
    if (this.site) this.#supervisor.failedAt(this.site, error);
  }

  shutdown(): void {
    if (this.site) this.#supervisor.shutdownAt(this.site);
  }

  stuck(loops: string[], timeoutMs: number, threadEnded: boolean): void {
    this.#supervisor.stuck(loops, timeoutMs, threadEnded);
  }
}
