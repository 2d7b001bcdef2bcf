import type { ResourceLimits } from "node:worker_threads";
import { Placement } from "./placement.js";
import type { WorkerThread } from "./worker-thread.js";

/**
 * Placement with threads started ahead of need: `prewarm(n)` starts n worker
 * threads that wait, idle, for an agent each, so a burst of `add`s later
 * skips starting them (most of an add's time). Only agents that get a
 * thread of their own take one; shared threads start as before.
 */
export class WarmPlacement extends Placement {
  #warm: WorkerThread[] = [];

  /** Threads started ahead and not yet taken. */
  get warm(): number {
    return this.#warm.length;
  }

  /** Starts `count` more idle threads; resolves once each runs. */
  async prewarm(hostUrl: string, count: number): Promise<void> {
    const started = Array.from({ length: count }, () => this.startThread(hostUrl));
    this.#warm.push(...started);
    await Promise.all(started.map((thread) => thread.running));
  }

  protected override ownThread(hostUrl: string, resourceLimits?: ResourceLimits): WorkerThread {
    // A thread with memory limits is started with them: a warm one has none.
    if (!resourceLimits) {
      for (let thread = this.#warm.pop(); thread; thread = this.#warm.pop()) if (thread.alive) return thread;
    }
    return super.ownThread(hostUrl, resourceLimits);
  }

  /** Ends the threads nobody took. */
  async endWarm(): Promise<void> {
    const warm = this.#warm;
    this.#warm = [];
    await Promise.all(warm.map((thread) => thread.kill()));
  }
}
