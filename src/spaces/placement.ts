import type { ResourceLimits } from "node:worker_threads";
import type { MessageRouter } from "../router.js";
import type { PlacementOptions } from "../space.js";
import { WorkerThread, type WorkerThreadOptions } from "./worker-thread.js";

/** What every thread of a space is started with. */
export type ThreadOptions = Omit<WorkerThreadOptions, "resourceLimits">;

/**
 * Decides which worker thread runs each agent: a thread of its own (the
 * default, and with `isolate`), or one of `threads` shared threads, the one
 * with the fewest agents. Threads start on first use and end when their
 * last agent leaves.
 */
export class Placement {
  #shared: WorkerThread[] = [];
  /** Every thread started and still alive (own, shared and warm): each is told when the space is watched. */
  #all = new Set<WorkerThread>();
  #threads: number | undefined;
  #router: () => MessageRouter;
  #options: ThreadOptions;

  constructor(threads: number | undefined, router: () => MessageRouter, options: ThreadOptions) {
    this.#threads = threads;
    this.#router = router;
    this.#options = options;
  }

  threadFor(hostUrl: string, { isolate, resourceLimits }: PlacementOptions): WorkerThread {
    if (this.#threads === undefined || isolate || resourceLimits) return this.ownThread(hostUrl, resourceLimits);
    this.#shared = this.#shared.filter((thread) => thread.alive);
    if (this.#shared.length < this.#threads) {
      const thread = this.startThread(hostUrl);
      this.#shared.push(thread);
      return thread;
    }
    return this.#shared.reduce((least, thread) => (thread.size < least.size ? thread : least));
  }

  /** Ends `thread` if no agent is left in it. */
  async release(thread: WorkerThread): Promise<void> {
    if (thread.size > 0 || !thread.alive) return;
    this.#shared = this.#shared.filter((other) => other !== thread);
    await thread.end();
  }

  /** A thread for one agent alone. */
  protected ownThread(hostUrl: string, resourceLimits?: ResourceLimits): WorkerThread {
    return this.startThread(hostUrl, resourceLimits);
  }

  protected startThread(hostUrl: string, resourceLimits?: ResourceLimits): WorkerThread {
    const thread = new WorkerThread(hostUrl, this.#router(), { ...this.#options, ...(resourceLimits ? { resourceLimits } : {}) });
    this.#all.add(thread);
    void thread.exited.then(() => this.#all.delete(thread));
    return thread;
  }

  /** The threads alive now. */
  get threads(): Iterable<WorkerThread> {
    return this.#all;
  }
}
