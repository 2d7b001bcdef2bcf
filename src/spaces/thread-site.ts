import type { NextVersion } from "../bundle.js";
import type { HostStart } from "../protocol.js";
import type { Site, SiteEvents } from "../supervisor.js";
import type { Placement } from "./placement.js";
import type { ThreadRoute } from "./thread-route.js";
import type { WorkerThread } from "./worker-thread.js";

/** An agent's place in a worker thread: started, stopped and reloaded there over the thread's control channel. */
export class ThreadSite implements Site {
  readonly thread: WorkerThread;
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
    this.#stateOf = stateOf;
    this.#events = events;
    this.#placement = placement;
    const { slot, counts } = thread.host(start.id, { route, crashed: events.crashed, failed: events.failed, shutdown: events.shutdown });
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
}
