import { MailboxFullError } from "../errors.js";
import type { MailboxOptions } from "../host/mailbox.js";
import { isAnswer, type Message } from "../message.js";
import type { Envelope } from "../protocol.js";
import type { Route } from "../router.js";

/** Where a route hands what reaches its agent: the port of the worker thread it runs in. */
export interface ThreadSink {
  message(to: string, message: Message): void;
  envelope(envelope: Envelope): void;
  /** `peerId` left or crashed, and agent `to` asked it something. */
  gone(to: string, peerId: string, reason: Error): void;
}

type Held = Message | { peerId: string; reason: Error };

/**
 * The router's side of an agent in a worker thread: passes what comes to
 * the thread it runs in, whose host keeps the mailbox and its bound. While
 * it runs nowhere (before its thread has placed it, while it restarts after
 * its thread died) this holds what comes, in order: the mailbox lives here
 * then, bounded as there.
 */
export class ThreadRoute implements Route {
  lastAsked: string | undefined;
  /** The thread whose host hands its thread-mates' broadcasts to it directly (see AgentHost: the fence). */
  localIn: object | undefined;
  #sink: ThreadSink | undefined;
  /** Made on first use: most routes hold nothing for long, and a swarm has many. */
  #held: Held[] | undefined;
  #heldActions = 0;
  #mailboxSize: number;
  /** Actions held at most: the mailbox's size, and with "wait" its waiting room too. */
  #limit: number;
  /** Made once, when first needed: an error's stack is costly, and most routes never refuse. */
  #full: MailboxFullError | undefined;
  /** Shared by the space's routes (a swarm has a million): told whose route refused. */
  #refuse: (id: string, message: Message, error: Error) => void;
  /** Why it closed (its agent left for good): what still comes is refused with it. */
  #closed: Error | undefined;

  constructor(
    readonly id: string,
    mailbox: MailboxOptions,
    refuse: (id: string, message: Message, error: Error) => void,
  ) {
    this.#limit = mailbox.policy === "wait" ? mailbox.size * 2 : mailbox.size;
    this.#mailboxSize = mailbox.size;
    this.#refuse = refuse;
  }

  /** Actions held here, not yet passed to a thread: its mailbox depth meanwhile. */
  get held(): number {
    return this.#heldActions;
  }

  deliver(message: Message): void {
    if (this.#sink) return this.#sink.message(this.id, message);
    if (this.#closed) {
      if (!isAnswer(message)) this.#refuse(this.id, message, this.#closed);
      return;
    }
    if (!isAnswer(message)) {
      if (this.#heldActions >= this.#limit) {
        this.#full ??= new MailboxFullError(`the mailbox of "${this.id}" is full (${this.#mailboxSize} messages)`);
        return this.#refuse(this.id, message, this.#full);
      }
      this.#heldActions++;
    }
    (this.#held ??= []).push(message);
  }

  deliverSealed(envelope: Envelope): boolean {
    if (!this.#sink) return false;
    this.#sink.envelope(envelope);
    return true;
  }

  peerGone(peerId: string, reason: Error): void {
    if (this.#sink) this.#sink.gone(this.id, peerId, reason);
    else if (!this.#closed) (this.#held ??= []).push({ peerId, reason });
  }

  /** From now on what comes goes to `sink`; what was held meanwhile goes first, in order. */
  connect(sink: ThreadSink): void {
    this.#sink = sink;
    const held = this.#held ?? [];
    this.#held = undefined;
    this.#heldActions = 0;
    for (const item of held) {
      if ("peerId" in item) sink.gone(this.id, item.peerId, item.reason);
      else sink.message(this.id, item);
    }
  }

  /** Its thread is gone: hold what comes for the next one. */
  disconnect(): void {
    this.#sink = undefined;
    this.localIn = undefined;
  }

  /** The agent has left for good: what was held for it is answered with `reason`. */
  close(reason: Error): void {
    this.disconnect();
    this.#closed = reason;
    const held = this.#held ?? [];
    this.#held = undefined;
    this.#heldActions = 0;
    for (const item of held) if (!("peerId" in item) && !isAnswer(item)) this.#refuse(this.id, item, reason);
  }
}
