import { MailboxFullError } from "./errors.js";
import { ERROR, isAnswer, type Message } from "./message.js";
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
}

/** Where an agent's route hands what reaches it: an agent in this thread, or its worker's port. */
export interface Sink {
  message(message: Message): void;
  gone(peerId: string, reason: Error): void;
}

type Held = Message | { peerId: string; reason: Error };

/**
 * The router's side of one agent, wherever it runs: counts what goes in and
 * out, keeps its mailbox bounded, and holds messages while the agent
 * restarts.
 *
 * The bound counts messages delivered and not yet taken by the agent
 * (answers to its own requests never wait, so they never count). The agent
 * reports what it takes; a message that finds the mailbox full is answered
 * with MailboxFullError, so a producer that outruns its consumer gets told
 * instead of growing memory without bound.
 */
export class AgentRoute implements Route {
  readonly stats: AgentStats = { received: 0, sent: 0, errors: 0, restarts: 0, mailboxDepth: 0 };
  #mailboxSize: number;
  #refuse: (message: Message, error: Error) => void;
  /** Made once: a flooded route refuses many messages, and an error's stack is costly. */
  #full: MailboxFullError | undefined;
  #sink: Sink | undefined;
  /** Held while the agent has no instance to take them (restarting). */
  #held: Held[] = [];

  constructor(
    readonly id: string,
    mailboxSize: number,
    refuse: (message: Message, error: Error) => void,
  ) {
    this.#mailboxSize = mailboxSize;
    this.#refuse = refuse;
  }

  deliver(message: Message): void {
    if (!isAnswer(message)) {
      if (this.stats.mailboxDepth >= this.#mailboxSize) {
        this.#full ??= new MailboxFullError(`the mailbox of "${this.id}" is full (${this.#mailboxSize} messages)`);
        return this.#refuse(message, this.#full);
      }
      this.stats.mailboxDepth++;
      this.stats.received++;
    }
    if (this.#sink) this.#sink.message(message);
    else this.#held.push(message);
  }

  peerGone(peerId: string, reason: Error): void {
    if (this.#sink) this.#sink.gone(peerId, reason);
    else this.#held.push({ peerId, reason });
  }

  /** The agent took `count` messages from its mailbox. */
  taken(count: number): void {
    this.stats.mailboxDepth -= count;
  }

  /** A message the agent sent, on its way to the router. */
  sent(message: Message): void {
    this.stats.sent++;
    if (message.action.name === ERROR) this.stats.errors++;
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

  /** The agent has left for good: what was held for it is answered with `reason`. */
  close(reason: Error): void {
    this.#sink = undefined;
    const held = this.#held;
    this.#held = [];
    for (const item of held) if (!("peerId" in item) && !isAnswer(item)) this.#refuse(item, reason);
  }

  /**
   * The instance is gone: hold messages for the next one. What its mailbox
   * held is lost with it, so the depth starts again from what is held.
   */
  disconnect(): void {
    this.#sink = undefined;
    this.stats.mailboxDepth = 0;
  }
}
