import type { Message } from "./message.js";

/**
 * Processes one message. Returning a promise holds the mailbox until it
 * settles: the agent decides how much of its work must finish before the
 * next message starts (all of it when serial, only the gate before the
 * action otherwise).
 */
export type MessageProcessor = (message: Message) => void | Promise<void>;

// Past this many taken messages the array is compacted, so that a mailbox
// that never fully drains does not keep what it has already handed out.
const COMPACT_AT = 4096;

/** An agent's queue of incoming messages, taken in arrival order. */
export class Mailbox {
  #queue: Message[] = [];
  #head = 0;
  #scheduled = false;
  #held = false;
  #process: MessageProcessor;
  #onHoldError: (error: unknown) => void;

  constructor(process: MessageProcessor, onHoldError: (error: unknown) => void) {
    this.#process = process;
    this.#onHoldError = onHoldError;
  }

  /** Messages waiting to be taken. */
  get depth(): number {
    return this.#queue.length - this.#head;
  }

  push(message: Message): void {
    this.#queue.push(message);
    if (!this.#scheduled && !this.#held) {
      // One microtask drains everything queued by then: far cheaper than a task per message.
      this.#scheduled = true;
      queueMicrotask(this.#drain);
    }
  }

  /** Drops what is still queued (the agent is leaving) and returns it. */
  clear(): Message[] {
    const rest = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    return rest;
  }

  #drain = (): void => {
    this.#scheduled = false;
    while (this.#head < this.#queue.length && !this.#held) {
      const message = this.#queue[this.#head++]!;
      const hold = this.#process(message);
      if (hold) this.#hold(hold);
    }
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > COMPACT_AT) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  };

  #hold(until: Promise<void>): void {
    this.#held = true;
    until.catch(this.#onHoldError).finally(() => {
      this.#held = false;
      this.#drain();
    });
  }
}
