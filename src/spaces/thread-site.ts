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
  /** The bundle its instances come from (a reload's, once reloaded). */
  moduleUrl: string;
  /** What every start of it is told, as its placement has it (shared with it: a swarm has a million). */
  #base: Omit<HostStart, "counts">;
  /** Where it counts in its thread; with the chunk's buffer until the first start has handed it over. */
  #counts: HostStart["counts"];
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
    this.#base = start;
    this.moduleUrl = start.moduleUrl;
    const { slot, counts } = thread.host(start.id, this);
    this.#slot = slot;
    this.#counts = counts;
  }

  get className(): string {
    return this.#base.className;
  }

  async start(version: NextVersion | undefined): Promise<void> {
    if (version) this.moduleUrl = version.bundleUrl;
    const start: HostStart = { ...this.#base, moduleUrl: this.moduleUrl, counts: this.#counts };
    if (this.#stateOf) start.durable = { state: this.#stateOf() };
    await this.thread.start(start);
    // A chunk's buffer is handed over once: a restart here does not need it again.
    if (this.#counts.buffer) this.#counts = { chunk: this.#counts.chunk, at: this.#counts.at };
  }

  async retire(timeoutMs: number): Promise<boolean> {
    const stopped = await this.thread.retire(this.#base.id, timeoutMs);
    if (!stopped) this.#events.stuck([], timeoutMs, true);
    return stopped;
  }

  async stop(reason: Error, timeoutMs: number): Promise<void> {
    if (!(await this.thread.stop(this.#base.id, reason, timeoutMs))) this.#events.stuck([], timeoutMs, true);
    await this.#placement.release(this.thread);
  }

  async reload(next: NextVersion): Promise<void> {
    const { id, className } = this.#base;
    await this.thread.reload({ id, moduleUrl: next.bundleUrl, className });
    this.moduleUrl = next.bundleUrl;
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
