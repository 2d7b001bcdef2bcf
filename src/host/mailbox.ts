import { PROCESS, RECEIVE } from "../agent-link.js";
import { MailboxFullError } from "../errors.js";
import { isAnswer, type Message } from "../message.js";
import { DEPTH, RECEIVED } from "./counters.js";
import { Fifo } from "./fifo.js";
import { runQueue, type Runnable } from "./run-queue.js";

/**
 * What happens to a message that finds its receiver's mailbox full:
 * `"reject"` answers it with MailboxFullError at once; `"wait"` keeps it, in
 * order, until the receiver takes one (a request's promise then resolves
 * later instead of rejecting). The waiting room holds another `mailboxSize`
 * messages at most; past that, `"wait"` refuses too.
 */
export type MailboxPolicy = "reject" | "wait";

/** An agent's mailbox bound, and what a message past it meets. */
export interface MailboxOptions {
  size: number;
  policy: MailboxPolicy;
}

/** The instance that takes a mailbox's messages: an agent, through the methods its host drives it by (see agent-link.ts). */
export interface MailboxConsumer {
  /** Sees each message as it arrives: true to queue it for `PROCESS`, false when it was dealt with at once. */
  [RECEIVE](message: Message): boolean;
  /** Takes one queued message; a promise holds the mailbox until it settles (a serial agent's action). */
  [PROCESS](message: Message): void | Promise<void>;
}

/** Whom a mailbox tells what it could not hand out. */
export interface MailboxOwner {
  /** `message` is not taken, for `error` (a full mailbox, a departure): answer it. */
  refuse(message: Message, error: Error): void;
  /** A serial action's promise (see MailboxConsumer) rejected: nobody else would hear of it. */
  holdFailed(error: unknown): void;
}

/**
 * One agent's mailbox, where its agent lives: bounded, in order, and kept
 * across its instances (a restart, a reload) while the agent stays in this thread.
 *
 * The bound: the depth counts the actions accepted and not yet taken (held
 * for a next instance, or queued for this one); answers never count, since
 * they never wait. This is the one place that counts it. Every accepted
 * action leaves the count once: taken by the consumer, dealt with on arrival
 * (`receive` said false), or dropped with a failed instance. A message that
 * finds the mailbox full waits or is refused (the policy), so a producer
 * that outruns its consumer is slowed or told, and memory stays bounded.
 */
export class Mailbox implements Runnable {
  #size: number;
  #policy: MailboxPolicy;
  #counts: Float64Array;
  #at: number;
  #owner: MailboxOwner;
  #consumer: MailboxConsumer | undefined;
  /** Arrived while no instance could see them, in order; received once one is attached. Made when first needed, as the next two: a swarm has a million mailboxes. */
  #held: Message[] | undefined;
  /** Received by the consumer, waiting to be processed. */
  #queue = new Fifo<Message>();
  /** With the "wait" policy: actions past the bound, in arrival order. */
  #waiting: Message[] | undefined;
  #scheduled = false;
  /** A promise (serial action) holds the queue, or a swap paused it. */
  #holds = 0;
  /** Counts the instances detached: a hold of one that is gone must not release the next one's queue. */
  #generation = 0;
  #admitting = false;
  /** Made once: a flooded mailbox refuses many messages, and an error's stack is costly. */
  #full: MailboxFullError | undefined;
  /**
   * Thread-mates' messages while the fence closes (see AgentHost), in order:
   * delivered behind those still coming back through the router. For one
   * round trip to the main thread; the bound applies as they are delivered.
   */
  #fenced: Message[] | undefined;
  /** Why it closed (its agent left for good): what still comes is refused with it. */
  #closed: Error | undefined;
  #id: string;

  /** `counts` and `at`: the agent's slot (see counters.ts), whose depth and received counts this keeps. */
  constructor(
    id: string,
    options: MailboxOptions,
    counts: Float64Array,
    at: number,
    owner: MailboxOwner,
  ) {
    this.#id = id;
    this.#size = options.size;
    this.#policy = options.policy;
    this.#counts = counts;
    this.#at = at;
    this.#owner = owner;
  }

  get depth(): number {
    return this.#counts[this.#at + DEPTH]!;
  }

  deliver(message: Message): void {
    if (this.#closed) {
      if (!isAnswer(message)) this.#owner.refuse(message, this.#closed);
      return;
    }
    if (isAnswer(message)) return this.#pass(message);
    // Once some wait, every later message waits behind them: per-sender order holds.
    const waiting = this.#waiting?.length ?? 0;
    if (this.depth < this.#size && waiting === 0) return this.#accept(message);
    if (this.#policy === "wait" && waiting < this.#size) {
      (this.#waiting ??= []).push(message);
      return;
    }
    this.#full ??= new MailboxFullError(`the mailbox of "${this.#id}" is full (${this.#size} messages)`);
    this.#owner.refuse(message, this.#full);
  }

  /** A thread-mate's message: held while fenced, else delivered. */
  deliverFromMate(message: Message): void {
    if (this.#fenced) this.#fenced.push(message);
    else this.deliver(message);
  }

  fence(): void {
    this.#fenced ??= [];
  }

  get fencing(): boolean {
    return this.#fenced !== undefined;
  }

  openFence(): void {
    const fenced = this.#fenced ?? [];
    this.#fenced = undefined;
    for (const message of fenced) this.deliver(message);
  }

  /** From now on messages go to `consumer`; those held meanwhile are received first, in order. */
  attach(consumer: MailboxConsumer): void {
    this.#consumer = consumer;
    const held = this.#held;
    this.#held = undefined;
    if (held) for (const message of held) this.#give(consumer, message);
  }

  /**
   * The instance is gone: what it had queued goes with it (its requesters
   * are told it failed), and arrivals are held for the next one.
   */
  detach(): void {
    this.#consumer = undefined;
    let dropped = 0;
    for (const message of this.#queue.takeAll()) if (!isAnswer(message)) dropped++;
    this.#queue = new Fifo();
    this.#holds = 0;
    this.#generation++;
    this.#taken(dropped);
  }

  /** Stops handing out queued messages (a swap); arrivals still reach the consumer's `receive`. */
  pause(): void {
    this.#holds++;
  }

  /** Hands out again, to `consumer` from now on. */
  resume(consumer: MailboxConsumer): void {
    this.#consumer = consumer;
    this.#release();
  }

  /** The agent has left for good: what was held or waiting for it is refused with `reason`; what was queued goes with it. */
  close(reason: Error): void {
    this.#closed = reason;
    const unanswered = [...(this.#held ?? []), ...(this.#waiting ?? []), ...(this.#fenced ?? [])];
    this.#held = undefined;
    this.#waiting = undefined;
    this.#fenced = undefined;
    this.detach();
    this.#counts[this.#at + DEPTH] = 0;
    for (const message of unanswered) if (!isAnswer(message)) this.#owner.refuse(message, reason);
  }

  #accept(message: Message): void {
    this.#counts[this.#at + DEPTH]++;
    this.#counts[this.#at + RECEIVED]++;
    this.#pass(message);
  }

  #pass(message: Message): void {
    const consumer = this.#consumer;
    if (consumer) this.#give(consumer, message);
    else (this.#held ??= []).push(message);
  }

  #give(consumer: MailboxConsumer, message: Message): void {
    if (!consumer[RECEIVE](message)) {
      if (!isAnswer(message)) this.#taken(1);
      return;
    }
    this.#queue.push(message);
    this.#schedule();
  }

  /** Takes its turn in the thread's run queue once, while it has messages to hand out. */
  #schedule(): void {
    if (this.#scheduled || this.#holds > 0) return;
    this.#scheduled = true;
    runQueue.ready(this);
  }

  /** Its turn in the run queue: hands out up to `turn` queued messages. */
  run(turn: number): number {
    this.#scheduled = false;
    const queue = this.#queue;
    let handedOut = 0;
    while (handedOut < turn && queue.length > 0 && this.#holds === 0 && this.#queue === queue && this.#consumer) {
      const message = queue.shift()!;
      handedOut++;
      // Taken as its action starts: room for one more before the action sends anything.
      if (!isAnswer(message)) this.#taken(1);
      const hold = this.#consumer[PROCESS](message);
      if (hold) this.#hold(hold);
    }
    // Detached meanwhile, what it had is gone; else what is left takes the back of the line.
    if (this.#queue === queue && queue.length > 0 && this.#consumer) this.#schedule();
    return handedOut;
  }

  #hold(until: Promise<void>): void {
    this.#holds++;
    const generation = this.#generation;
    until.catch((error: unknown) => this.#owner.holdFailed(error)).finally(() => {
      if (this.#generation === generation) this.#release(); // else its instance was dropped, and the hold with it
    });
  }

  #release(): void {
    if (--this.#holds > 0 || !this.#consumer) return;
    if (this.#queue.length > 0) this.#schedule();
  }

  /** `count` actions left the mailbox: room for as many waiting ones. */
  #taken(count: number): void {
    if (count === 0) return;
    this.#counts[this.#at + DEPTH] = Math.max(0, this.depth - count);
    this.#admitWaiting();
  }

  #admitWaiting(): void {
    // Admitting may take (or skip) a message at once, which calls back here:
    // the loop already running admits the next one, so calls never nest deeper than one.
    const waiting = this.#waiting;
    if (this.#admitting || waiting === undefined || waiting.length === 0) return;
    this.#admitting = true;
    let admitted = 0;
    try {
      while (admitted < waiting.length && this.depth < this.#size && this.#waiting === waiting) this.#accept(waiting[admitted++]!);
    } finally {
      this.#admitting = false;
      if (admitted > 0 && this.#waiting === waiting) waiting.splice(0, admitted);
    }
  }
}
