import { EventEmitter } from "eventemitter3";
import { MailboxFullError, MessageValidationError } from "../errors.js";
import { jsonValueProblem } from "../json-value.js";
import { BROADCAST, isAnswer, type Message } from "../message.js";
import { isPassingRefusal, isReplyError, type RedisCommands, type Reply } from "./connection.js";
import { RedisPublishError } from "./errors.js";
import type { Keys } from "./keys.js";
import { PUBLISH } from "./scripts.js";

interface OutboxEvents {
  /** No mailbox of that id is open in the namespace. */
  unroutable: (message: Message) => void;
  /** The message was not (and will not be) put into a mailbox. */
  publishFailed: (message: Message, error: Error) => void;
}

/** Told once a message's fate is known: its stream entry id when put, undefined when not. */
export type PutSettled = (entryId: string | undefined) => void;

interface Outgoing {
  readonly message: Message;
  readonly kind: "d" | "a" | "b";
  readonly body: string;
  settled?: PutSettled;
}

/** Messages per script call, at most: large enough to carry a burst in one round trip, small enough not to stall Redis. */
const BATCH = 1_000;

/** Batches sent and not yet answered, at most: enough to keep Redis busy while replies travel. */
const IN_FLIGHT = 4;

/**
 * Puts messages into mailboxes. Messages taken in one turn of the event loop
 * go in one script call, which checks each mailbox (open? room?) and adds
 * to its stream atomically. Up to four batches are in flight on the one
 * connection, which Redis runs in order. Batches the connection lost (or that
 * Redis put off: still loading after a restart) are sent again, first and in
 * their order, once Redis is back; nothing newer goes out before them. Such
 * a batch may have been run before the loss: it then arrives twice (at least once).
 */
export class Outbox extends EventEmitter<OutboxEvents> {
  readonly #client: RedisCommands;
  readonly #keys: Keys;
  readonly #maxBuffered: number;
  #queue: Outgoing[] = [];
  #inFlight = 0;
  /** Batches to send again, by their place in the order sent. */
  #lost: Array<{ order: number; batch: Outgoing[] }> = [];
  #sent = 0;
  #scheduled = false;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(client: RedisCommands, keys: Keys, maxBuffered: number) {
    super();
    this.#client = client;
    this.#keys = keys;
    this.#maxBuffered = maxBuffered;
  }

  /** Queues `message` for its mailbox; `settled`, when given, learns where it landed. */
  publish(message: Message, settled?: PutSettled): void {
    if (this.#closed) {
      settled?.(undefined);
      return this.#fail(message, "the Redis transport is closed");
    }
    const outgoing = this.#encode(message);
    if (!outgoing || this.#queue.length >= this.#maxBuffered) {
      settled?.(undefined);
      if (!outgoing) return;
      return this.#fail(message, `the Redis publish buffer is full (${this.#maxBuffered} messages waiting for Redis)`);
    }
    outgoing.settled = settled;
    this.#queue.push(outgoing);
    this.#schedule();
  }

  /** Sends what waits again (after a reconnect). */
  resume(): void {
    this.#schedule();
  }

  /** Stops taking messages; waits (up to `timeoutMs`) for those taken to reach Redis, then fails the rest. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    if (this.#queue.length > 0 || this.#inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.#idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const left = this.#queue;
    this.#queue = [];
    for (const { message, settled } of left) {
      settled?.(undefined);
      this.#fail(message, "the Redis transport closed before Redis took the message");
    }
  }

  #encode(message: Message): Outgoing | undefined {
    // Checked before encoding: JSON.stringify would change (NaN, a Map, a hole) or refuse (BigInt, a cycle) what it cannot carry.
    const problem = jsonValueProblem(message, "");
    if (problem !== undefined) {
      this.emit("publishFailed", message, new MessageValidationError(`message ${message.meta.id} to "${message.to}" was not sent: ${problem}`));
      return undefined;
    }
    try {
      const kind = message.to === BROADCAST ? "b" : isAnswer(message) ? "a" : "d";
      return { message, kind, body: JSON.stringify(message) };
    } catch (error) {
      const why = `message ${message.meta.id} to "${message.to}" cannot be encoded: ${(error as Error).message}`;
      this.emit("publishFailed", message, new MessageValidationError(why, { cause: error }));
      return undefined;
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the current turn: everything sent in it goes in one call.
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    // Lost batches go again first, once none of theirs is still out: the order holds.
    if (this.#lost.length > 0 && this.#inFlight === 0) {
      const lost = this.#lost.sort((a, b) => a.order - b.order);
      this.#lost = [];
      this.#queue = [...lost.flatMap(({ batch }) => batch), ...this.#queue];
    }
    while (this.#lost.length === 0 && this.#queue.length > 0 && this.#inFlight < IN_FLIGHT && this.#client.isReady) {
      void this.#send(this.#queue.splice(0, BATCH));
    }
    if (this.#queue.length === 0 && this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  async #send(batch: Outgoing[]): Promise<void> {
    const order = this.#sent++;
    this.#inFlight++;
    const args = [this.#keys.prefix];
    for (const { kind, message, body } of batch) args.push(kind, message.to, body);
    try {
      this.#results(batch, await PUBLISH.run(this.#client, args));
    } catch (error) {
      if (isReplyError(error) && !isPassingRefusal(error)) {
        // Redis refused the whole call (out of memory, say): each message is told.
        for (const { settled } of batch) settled?.(undefined);
        for (const { message } of batch) this.#failWith(message, new RedisPublishError(`Redis refused message ${message.meta.id} to "${message.to}": ${(error as Error).message}`, { cause: error }));
      } else {
        // Lost with the connection, or put off: sent again once Redis is back (resume), or shortly.
        this.#lost.push({ order, batch });
        if (isPassingRefusal(error)) setTimeout(() => this.#schedule(), 100).unref();
      }
    } finally {
      this.#inFlight--;
      this.#pump();
    }
  }

  #results(batch: Outgoing[], reply: Reply): void {
    const results = Array.isArray(reply) ? reply : [];
    batch.forEach(({ message, settled }, i) => {
      const result = results[i];
      settled?.(typeof result === "string" ? result : undefined);
      if (Array.isArray(result)) {
        // A broadcast: every full mailbox answers as a full mailbox does.
        for (const id of result) this.#full({ ...message, to: String(id) });
      } else if (result === 1) {
        this.emit("unroutable", message);
      } else if (result === 2) {
        this.#full(message);
      }
    });
  }

  #full(message: Message): void {
    this.emit("publishFailed", message, new MailboxFullError(`the mailbox of "${message.to}" is full`));
  }

  #fail(message: Message, why: string): void {
    this.#failWith(message, new RedisPublishError(`message ${message.meta.id} to "${message.to}" was not sent: ${why}`));
  }

  #failWith(message: Message, error: Error): void {
    this.emit("publishFailed", message, error);
  }
}
