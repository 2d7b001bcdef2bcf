import type { MessageRouter } from "../router.js";
import { Placement, type PlacementOptions, type ThreadOptions } from "./placement.js";
import { WorkerThread } from "./worker-thread.js";

/**
 * Placement with threads started ahead of need: `prewarm(n)` starts n worker
 * threads that wait, idle, for an agent each, so a burst of `add`s later
 * skips starting them (most of an add's time). Only agents that get a
 * thread of their own take one; shared threads start as before.
 */
export class WarmPlacement extends Placement {
  #warm: WorkerThread[] = [];
  #ownThreads: boolean;
  #router: () => MessageRouter;
  #options: ThreadOptions;

  constructor(threads: number | undefined, router: () => MessageRouter, options: ThreadOptions) {
    super(threads, router, options);
    this.#ownThreads = threads === undefined;
    this.#router = router;
    this.#options = options;
  }

  /** Threads started ahead and not yet taken. */
  get warm(): number {
    return this.#warm.length;
  }

  /** Starts `count` more idle threads; resolves once each runs. */
  async prewarm(hostUrl: string, count: number): Promise<void> {
    const started = Array.from({ length: count }, () => new WorkerThread(hostUrl, this.#router(), this.#options));
    this.#warm.push(...started);
    await Promise.all(started.map((thread) => thread.running));
  }

  override threadFor(hostUrl: string, where: PlacementOptions): WorkerThread {
    // A thread with memory limits is started with them: a warm one has none.
    if ((this.#ownThreads || where.isolate) && !where.resourceLimits) {
      for (let thread = this.#warm.pop(); thread; thread = this.#warm.pop()) if (thread.alive) return thread;
    }
    return super.threadFor(hostUrl, where);
  }

  /** Ends the threads nobody took. */
  async endWarm(): Promise<void> {
    const warm = this.#warm;
    this.#warm = [];
    await Promise.all(warm.map((thread) => thread.kill()));
  }
}
