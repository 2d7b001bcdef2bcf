import { MailboxFullError } from "./errors.js";
import { BROADCAST, ERROR, isAnswer, type Message } from "./message.js";
import type { Envelope } from "./protocol.js";
import type { Route } from "./router.js";

/** What `space.stats()` reports for each agent. */
export interface AgentStats {
  /** Messages delivered to it (answers to its requests not counted). */
  received: number;
  /** Messages it sent, answers included. */
  sent: number;
  /** `[error]` answers it sent: its actions that failed or were refused. */
  errors: number;
  /** Times it was restarted after a crash. */
  restarts: number;
  /** Messages delivered to it that it has not yet taken. */
  mailboxDepth: number;
  /**
   * Items from its thread that the space dropped as malformed or forged
   * (for a thread of several agents, counted for each: any of them may have sent it).
   */
  dropped: number;
  /** Its `@loop`s running now. */
  loops: number;
  /** Its `@timer`s running now (waiting for their next run, or running). */
  timers: number;
  /** Times one of its loops or timers threw, over all its instances. */
  loopFailures: number;
  /** RedisSpace: messages waiting in its Redis mailbox, not yet taken (refreshed about once a second). */
  waiting?: number;
  /** RedisSpace: messages taken from Redis whose actions have not yet answered (not yet acknowledged). */
  unacked?: number;
}

/** Where an agent's route hands what reaches it: an agent in this thread, or its worker's port. */
export interface Sink {
  message(message: Message): void;
  gone(peerId: string, reason: Error): void;
  /** A worker thread takes sealed envelopes as they are; an agent in this thread has no use for bytes. */
  envelope?(envelope: Envelope): void;
}

type Held = Message | { peerId: string; reason: Error };

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

/**
 * The router's side of one agent, wherever it runs: counts what goes in and
 * out, keeps its mailbox bounded, and holds messages while the agent
 * restarts.
 *
 * The bound counts messages delivered and not yet taken by the agent
 * (answers to its own requests never wait, so they never count). This route
 * owns the count; the agent's side reports every message that leaves its
 * mailbox for any reason (taken, skipped, refused, dropped), and losing the
 * instance empties it (`disconnect`); a message that finds the mailbox full waits or is
 * answered with MailboxFullError (the policy), so a producer that outruns its
 * consumer is slowed or told, and memory stays bounded either way.
 */
export class AgentRoute implements Route {
  readonly stats: AgentStats = {
    received: 0,
    sent: 0,
    errors: 0,
    restarts: 0,
    mailboxDepth: 0,
    dropped: 0,
    loops: 0,
    timers: 0,
    loopFailures: 0,
  };
  #mailboxSize: number;
  #policy: MailboxPolicy;
  #refuse: (message: Message, error: Error) => void;
  /** With the "wait" policy: messages for a full mailbox, in arrival order. */
  #waiting: Message[] = [];
  /** Made once: a flooded route refuses many messages, and an error's stack is costly. */
  #full: MailboxFullError | undefined;
  #sink: Sink | undefined;
  /** Held while the agent has no instance to take them (restarting). */
  #held: Held[] = [];
  #admitting = false;
  #asks: ((to: string) => void) | undefined;
  /** The last agent reported asked: a sender mostly asks the same one again (cleared when it goes). */
  #lastAsked: string | undefined;

  constructor(
    readonly id: string,
    mailbox: MailboxOptions,
    refuse: (message: Message, error: Error) => void,
  ) {
    this.#mailboxSize = mailbox.size;
    this.#policy = mailbox.policy;
    this.#refuse = refuse;
  }

  deliver(message: Message): void {
    if (isAnswer(message)) return this.#pass(message);
    // Once some wait, every later message waits behind them: per-sender order holds.
    if (this.stats.mailboxDepth < this.#mailboxSize && this.#waiting.length === 0) return this.#admit(message);
    if (this.#policy === "wait" && this.#waiting.length < this.#mailboxSize) {
      this.#waiting.push(message);
      return;
    }
    this.#full ??= new MailboxFullError(`the mailbox of "${this.id}" is full (${this.#mailboxSize} messages)`);
    this.#refuse(message, this.#full);
  }

  peerGone(peerId: string, reason: Error): void {
    // The router forgot this agent asked it: a later action to the same id must be reported again.
    if (this.#lastAsked === peerId) this.#lastAsked = undefined;
    if (this.#sink) this.#sink.gone(peerId, reason);
    else this.#held.push({ peerId, reason });
  }

  /**
   * The agent took `count` messages from its mailbox (or they were dropped on
   * their way to it): room for as many waiting ones. Never below empty, even
   * if a report is wrong.
   */
  taken(count: number): void {
    this.stats.mailboxDepth = Math.max(0, this.stats.mailboxDepth - count);
    this.#admitWaiting();
  }

  reportAsks(asks: (to: string) => void): void {
    this.#asks = asks;
    this.#lastAsked = undefined;
  }

  /** A message the agent sent, on its way to the router. */
  sent(message: Message): void {
    this.stats.sent++;
    if (isAnswer(message)) {
      if (message.action.name === ERROR) this.stats.errors++;
    } else if (message.to !== BROADCAST) this.#asked(message.to);
  }

  /** An envelope the agent sent to one agent: `size` messages, `actions` of them actions, `errors` `[error]` answers. */
  sentMany(envelope: Pick<Envelope, "to" | "size" | "actions" | "errors">): void {
    this.stats.sent += envelope.size;
    this.stats.errors += envelope.errors;
    if (envelope.actions > 0) this.#asked(envelope.to);
  }

  #asked(to: string): void {
    if (to === this.#lastAsked) return;
    this.#lastAsked = to;
    this.#asks?.(to);
  }

  /**
   * Passes an envelope on unopened when the agent's thread takes envelopes
   * and its mailbox has room for all of it; false when it must be opened and
   * its messages delivered one by one (which applies the bound to each).
   */
  deliverSealed(envelope: Envelope): boolean {
    const sink = this.#sink;
    if (!sink?.envelope || this.#waiting.length > 0 || this.stats.mailboxDepth + envelope.actions > this.#mailboxSize) return false;
    this.stats.mailboxDepth += envelope.actions;
    this.stats.received += envelope.actions;
    sink.envelope(envelope);
    return true;
  }

  /** From now on messages go to `sink`; those held meanwhile go first, in order. */
  connect(sink: Sink): void {
    this.#sink = sink;
    const held = this.#held;
    this.#held = [];
    for (const item of held) {
      if ("peerId" in item) sink.gone(item.peerId, item.reason);
      else sink.message(item);
    }
  }

  /** The agent has left for good: what was held or waiting for it is answered with `reason`. */
  close(reason: Error): void {
    this.#sink = undefined;
    const unanswered = [...this.#held, ...this.#waiting];
    this.#held = [];
    this.#waiting = [];
    for (const item of unanswered) if (!("peerId" in item) && !isAnswer(item)) this.#refuse(item, reason);
  }

  /**
   * The instance is gone: hold messages for the next one. What its mailbox
   * held is lost with it, so the depth starts again from what is held.
   */
  disconnect(): void {
    this.#sink = undefined;
    this.stats.mailboxDepth = 0;
    this.#admitWaiting();
  }

  #admit(message: Message): void {
    this.stats.mailboxDepth++;
    this.stats.received++;
    this.#pass(message);
  }

  #admitWaiting(): void {
    // An agent in this thread may take (or skip) a message while it is being
    // admitted, which calls back here: the loop already running admits the
    // next one, so the calls never nest deeper than one.
    if (this.#admitting) return;
    this.#admitting = true;
    const waiting = this.#waiting;
    let admitted = 0;
    try {
      while (admitted < waiting.length && this.stats.mailboxDepth < this.#mailboxSize && this.#waiting === waiting) {
        this.#admit(waiting[admitted++]!);
      }
    } finally {
      this.#admitting = false;
      if (admitted > 0 && this.#waiting === waiting) waiting.splice(0, admitted);
    }
  }

  #pass(message: Message): void {
    if (this.#sink) this.#sink.message(message);
    else this.#held.push(message);
  }
}
