import type { NextVersion } from "../bundle.js";
import type { HostStart } from "../protocol.js";
import type { PlacementOptions } from "../space.js";
import type { AgentPlacement, Site, SiteEvents } from "../supervisor.js";
import type { AgentCrashedError, LoopFailedError } from "../errors.js";
import type { Placement } from "./placement.js";
import type { ThreadRoute } from "./thread-route.js";
import type { ThreadAgent, WorkerThread } from "./worker-thread.js";

/** Where the instances of an agent in worker threads go: a thread of `placement`'s, and another whenever the last was lost. */
export class ThreadPlacing implements AgentPlacement {
  readonly route: ThreadRoute;
  #placement: Placement;
  #hostUrl: string;
  #where: PlacementOptions;
  #start: Omit<HostStart, "counts">;
  #stateOf: (() => string | undefined) | undefined;

  constructor(
    placement: Placement,
    hostUrl: string,
    where: PlacementOptions,
    start: Omit<HostStart, "counts">,
    route: ThreadRoute,
    stateOf: (() => string | undefined) | undefined,
  ) {
    this.#placement = placement;
    this.#hostUrl = hostUrl;
    this.#where = where;
    this.#start = start;
    this.route = route;
    this.#stateOf = stateOf;
  }

  held(): number {
    return this.route.held;
  }

  close(reason: Error): void {
    this.route.close(reason);
  }

  place(events: SiteEvents): Site {
    const thread = this.#placement.threadFor(this.#hostUrl, this.#where);
    return new ThreadSite(thread, this.#start, this.route, events, this.#placement, this.#stateOf);
  }
}

/**
 * An agent's place in a worker thread: started, stopped and reloaded there
 * over the thread's control channel; what the thread says of the agent, it
 * tells the agent's supervisor.
 */
export class ThreadSite implements Site, ThreadAgent {
  readonly thread: WorkerThread;
  readonly route: ThreadRoute;
  #start: HostStart;
  #events: SiteEvents;
  #placement: Placement;
  /** Its slot in the thread's counts. */
  #slot: number;
  /** A durable agent's last written state, handed to each start (when its thread does not read it itself). */
  #stateOf: (() => string | undefined) | undefined;

  constructor(
    thread: WorkerThread,
    start: Omit<HostStart, "counts">,
    route: ThreadRoute,
    events: SiteEvents,
    placement: Placement,
    stateOf?: () => string | undefined,
  ) {
    this.thread = thread;
    this.route = route;
    this.#stateOf = stateOf;
    this.#events = events;
    this.#placement = placement;
    const { slot, counts } = thread.host(start.id, this);
    this.#slot = slot;
    this.#start = { ...start, counts };
  }

  async start(version: NextVersion | undefined): Promise<void> {
    if (version) this.#start = { ...this.#start, moduleUrl: version.bundleUrl };
    if (this.#stateOf) this.#start = { ...this.#start, durable: { state: this.#stateOf() } };
    await this.thread.start(this.#start);
    // A chunk's buffer is handed over once: a restart here does not need it again.
    const { chunk, at } = this.#start.counts;
    this.#start = { ...this.#start, counts: { chunk, at } };
  }

  async retire(timeoutMs: number): Promise<boolean> {
    const stopped = await this.thread.retire(this.#start.id, timeoutMs);
    if (!stopped) this.#events.stuck([], timeoutMs, true);
    return stopped;
  }

  async stop(reason: Error, timeoutMs: number): Promise<void> {
    if (!(await this.thread.stop(this.#start.id, reason, timeoutMs))) this.#events.stuck([], timeoutMs, true);
    await this.#placement.release(this.thread);
  }

  async reload(next: NextVersion): Promise<void> {
    const { id, className } = this.#start;
    await this.thread.reload({ id, moduleUrl: next.bundleUrl, className });
    this.#start = { ...this.#start, moduleUrl: next.bundleUrl };
  }

  count(what: number): number {
    return this.thread.count(this.#slot, what);
  }

  crashed(error: AgentCrashedError, code: number): void {
    this.#events.crashed(error, code);
  }

  failed(error: LoopFailedError): void {
    this.#events.failed(error);
  }

  shutdown(): void {
    this.#events.shutdown();
  }
}
