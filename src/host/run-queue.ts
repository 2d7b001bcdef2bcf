import { Fifo } from "./fifo.js";

/** Something with messages to hand out: a mailbox. */
export interface Runnable {
  /** Hands out up to `turn` messages and says how many; calls `ready` again itself if more are left. */
  run(turn: number): number;
}

/** Messages one mailbox hands out before the next ready mailbox has its turn. */
const TURN = 256;
/**
 * Messages handed out before the thread's event loop gets a turn (timers,
 * I/O, other threads' batches): agents that keep each other busy for ever
 * (a ping-pong that never ends) slow the thread's other work, but never stop it.
 */
const YIELD_AFTER = 16_384;

/**
 * The mailboxes of one thread that have messages to hand out, each taking its
 * turn in the order it became ready, as a scheduler's run queue does.
 *
 * A message handed to a thread-mate is taken in the same run: one microtask
 * serves a whole exchange of messages between the thread's agents, instead of
 * a microtask per message. Microtasks of other code (an action's `await`, a
 * request's answer) run between runs, as they would between microtasks.
 */
class RunQueue {
  #ready = new Fifo<Runnable>();
  #scheduled = false;

  /** `runnable` has messages: it runs once every mailbox ready before it has run. */
  ready(runnable: Runnable): void {
    this.#ready.push(runnable);
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.#run);
  }

  #run = (): void => {
    let budget = YIELD_AFTER;
    let next: "microtask" | "task" | undefined = "microtask";
    try {
      const ready = this.#ready;
      while (ready.length > 0) {
        if (budget <= 0) {
          next = "task";
          return;
        }
        budget -= ready.shift()!.run(TURN) + 1;
      }
      next = undefined;
    } finally {
      // "microtask" here means a run threw (none should): the rest is left for the next run, not stranded.
      if (next === undefined) this.#scheduled = false;
      else if (next === "task") setImmediate(this.#run);
      else queueMicrotask(this.#run);
    }
  };
}

/** This thread's run queue (module state is per thread: each worker has its own). */
export const runQueue = new RunQueue();
