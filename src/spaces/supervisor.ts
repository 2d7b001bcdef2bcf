import type { AgentRoute, AgentStats } from "../agent-route.js";
import { AgentCrashedError, type LoopFailedError } from "../errors.js";
import type { Member, MemberDescription } from "../in-thread.js";
import type { HostStart } from "../protocol.js";
import type { NextVersion } from "../live/reload.js";
import type { MessageRouter } from "../router.js";
import type { Placement, PlacementOptions } from "./placement.js";
import { RestartBudget } from "./restart-budget.js";
import type { WorkerThread } from "./worker-thread.js";

/** When a crashed agent is started again, as in Erlang/OTP supervisors. */
export interface RestartOptions {
  /**
   * `"never"` (the default): a crash removes the agent. `"on-failure"`: a
   * crash (an uncaught error, a non-zero exit, running out of memory) starts
   * a fresh instance. `"always"`: so does a thread that exits with code 0.
   */
  restart?: "never" | "on-failure" | "always";
  /** At most this many restarts within `withinMs`; one more crash removes the agent. */
  maxRestarts?: number;
  withinMs?: number;
  /** Wait before a restart; doubled for each restart still within `withinMs`. */
  backoffMs?: number;
}

export const restartDefaults: Required<RestartOptions> = {
  restart: "never",
  maxRestarts: 3,
  withinMs: 60_000,
  backoffMs: 100,
};

export interface SupervisorEvents {
  /** An instance crashed; `outcome` says what happens next (restarted, or removed). */
  crashed(error: AgentCrashedError, outcome: string): void;
  /** No more restarts: the agent has left the space. */
  gaveUp(error: AgentCrashedError): void;
  /** The agent must leave as `space.remove` takes it out: it called `shutdown()`, or a loop failed and no restart is allowed. */
  leave(): void;
  error(error: Error): void;
}

export interface SupervisedSpec {
  hostUrl: string;
  start: HostStart;
  router: MessageRouter;
  route: AgentRoute;
  placement: Placement;
  where: PlacementOptions;
  restart: Required<RestartOptions>;
  /** How long an instance replaced after a loop failure may take to stop (the space's remove timeout). */
  stopTimeoutMs: number;
  /** The source module (file: URL) the class comes from, for `space.reload`. */
  sourceModule?: string;
  events: SupervisorEvents;
}

/**
 * Keeps one agent running in a worker thread: places and starts it,
 * restarts it after a crash as its policy allows, and stops it. Its route
 * stays in the router through restarts, holding messages (up to the mailbox
 * bound) until the next instance takes them.
 */
export class Supervisor implements Member {
  #spec: SupervisedSpec;
  #thread: WorkerThread | undefined;
  #budget: RestartBudget;
  /** An instance whose loop failed, being stopped before the next one starts. */
  #replacing: Promise<void> | undefined;
  #pendingRestart: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(spec: SupervisedSpec) {
    this.#spec = spec;
    this.#budget = new RestartBudget(spec.restart);
  }

  /** Takes the id in the router and starts the first instance; rejects (leaving nothing) if that fails. */
  static async start(spec: SupervisedSpec): Promise<Supervisor> {
    const supervisor = new Supervisor(spec);
    await spec.router.add(spec.route.id, spec.route);
    try {
      await supervisor.#startInstance();
    } catch (error) {
      spec.route.close(error as Error);
      await spec.router.delete(spec.route.id, error as Error);
      const { id, className } = spec.start;
      throw new Error(`agent "${id}" (${className}) failed to start: ${(error as Error).message}`, { cause: error });
    }
    return supervisor;
  }

  stats(): AgentStats {
    return { ...this.#spec.route.stats };
  }

  dropped(): void {
    this.#spec.route.stats.dropped++;
  }

  get sourceModule(): string | undefined {
    return this.#spec.sourceModule;
  }

  /** Swaps the running instance for one of `next` in its thread; restarts from then on start the new version. */
  reload(next: NextVersion): Promise<void> {
    const swapped = (this.#replacing ?? Promise.resolve()).then(() => this.#swap(next));
    this.#replacing = swapped.catch(() => undefined);
    return swapped;
  }

  async #swap(next: NextVersion): Promise<void> {
    const start = { ...this.#spec.start, moduleUrl: next.bundleUrl };
    const thread = this.#thread;
    if (thread && !this.#stopped) await thread.reload({ id: start.id, moduleUrl: start.moduleUrl, className: start.className });
    this.#spec.start = start; // only once it runs: a version that fails to start is not restarted into either
  }

  describe(): MemberDescription {
    const state = this.#stopped ? "stopping" : this.#thread ? "running" : "restarting";
    return { className: this.#spec.start.className, thread: this.#thread ?? null, state };
  }

  /** Always leaves: whatever the thread does, the id is free once this settles. */
  async stop(reason: Error, timeoutMs: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#pendingRestart);
    const thread = this.#thread;
    this.#thread = undefined;
    try {
      await this.#replacing;
      if (thread) {
        await thread.stop(this.#spec.route.id, timeoutMs);
        await this.#spec.placement.release(thread);
      }
    } finally {
      await this.#leave(reason);
    }
  }

  async #startInstance(): Promise<void> {
    const { hostUrl, route, placement, where, start } = this.#spec;
    const thread = placement.threadFor(hostUrl, where);
    this.#thread = thread;
    thread.host({
      route,
      crashed: (error, code) => this.#crashed(thread, error, code),
      failed: (error) => this.#failed(thread, error),
      shutdown: () => {
        if (thread === this.#thread && !this.#stopped) this.#spec.events.leave();
      },
    });
    try {
      await thread.start(start);
    } catch (error) {
      thread.unhost(route.id);
      await placement.release(thread);
      throw error;
    }
  }

  #crashed(thread: WorkerThread, error: AgentCrashedError, code: number): void {
    if (thread !== this.#thread) return;
    this.#thread = undefined;
    const { router, route, events } = this.#spec;
    route.stats.loops = route.stats.timers = 0;
    // Requests waiting on the dead instance can no longer be answered; new messages wait for the next.
    router.interrupted(route.id, error);
    if (this.#stopped) return events.crashed(error, "it was being removed");
    const delay = this.#budget.delay(code === 0);
    if (delay === undefined) {
      events.crashed(error, "removed it from the space (its restart policy allows no restart)");
      void this.#leave(error).then(() => events.gaveUp(error), events.error);
      return;
    }
    events.crashed(error, `restarting it in ${delay} ms`);
    this.#pendingRestart = setTimeout(() => void this.#restart(), delay);
  }

  /**
   * A loop or timer threw: a failure of this agent alone, its thread runs on.
   * The instance is stopped as by remove (its other loops awaited, then
   * beforeRemove), then restarted as its policy allows, or removed.
   */
  #failed(thread: WorkerThread, error: LoopFailedError): void {
    if (thread !== this.#thread || this.#stopped) return;
    const { router, route, events } = this.#spec;
    route.stats.loopFailures++;
    const delay = this.#budget.delay(false);
    if (delay === undefined) {
      events.crashed(error, "removing it from the space (its restart policy allows no restart)");
      router.interrupted(route.id, error); // requests waiting on it end with the failure, not a bare "removed"
      events.leave();
      return;
    }
    events.crashed(error, `restarting it in ${delay} ms`);
    this.#thread = undefined;
    this.#replacing = this.#replace(thread, error, delay).catch(events.error);
  }

  async #replace(thread: WorkerThread, error: LoopFailedError, delay: number): Promise<void> {
    const { router, route, placement, stopTimeoutMs } = this.#spec;
    // From now on messages wait for the next instance; requests the failed one holds end.
    route.disconnect();
    router.interrupted(route.id, error);
    await thread.stop(route.id, stopTimeoutMs);
    route.stats.loops = route.stats.timers = 0;
    await placement.release(thread);
    if (!this.#stopped) this.#pendingRestart = setTimeout(() => void this.#restart(), delay);
  }

  async #restart(): Promise<void> {
    if (this.#stopped) return;
    this.#budget.spend();
    this.#spec.route.stats.restarts++;
    try {
      await this.#startInstance();
      this.#spec.router.restarted(this.#spec.route.id);
    } catch (error) {
      // The fresh instance failed to start (its constructor or afterAdd threw): that is another crash.
      const { id } = this.#spec.route;
      const crash = new AgentCrashedError(id, `agent "${id}" failed to restart: ${(error as Error).message}`, { cause: error });
      if (this.#thread) this.#crashed(this.#thread, crash, 1);
    }
  }

  /** Out of the router for good: what was held for it is answered with `reason`. */
  async #leave(reason: Error): Promise<void> {
    const { router, route } = this.#spec;
    route.close(reason);
    await router.delete(route.id, reason);
  }
}
