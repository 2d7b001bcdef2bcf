import { MessageValidationError } from "../errors.js";
import { BROADCAST, agentIdProblem, validateIncoming, type Message } from "../message.js";
import type { Deliver } from "../spaces/broker-transport.js";
import type { Reply } from "./connection.js";

/** Messages a durable agent's mailbox remembers it applied (see Mailbox.appliedHere). */
const APPLIED_HERE = 1_000;

/**
 * One attached agent's mailbox, as this process holds it: the entries taken
 * from its stream and not yet acknowledged (its agent has not answered),
 * at most `window` of them, so a slow agent leaves the rest waiting in Redis.
 */
export class Mailbox {
  /** Taken and not yet done, by stream entry id, in the order taken. */
  readonly pending = new Map<string, Message>();
  /** Bumped by `redeliver` and `release`: a `done` of an older delivery does nothing. */
  generation = 0;
  released = false;
  /** Removed for good: a virtual agent's mailbox and state end with it, as any agent's, instead of waiting for its next activation. */
  ends = false;
  /** Its pending entries must be read again from Redis (after attaching, or a reconnect). */
  sweep = true;
  /** Left out of the last read because its window was full. */
  throttled = false;
  /** Entries that were not valid messages, acknowledged and dropped. */
  malformed = 0;
  /** Entries in its stream at the last look (taken or not). */
  length = 0;
  /** Its agent is durable: what arrives is looked up among the messages it applied, and its state is kept here. */
  durable = false;
  /** A durable agent's last state (JSON text): read with the lease, then as its host last sent it. */
  state: string | undefined;
  /** A durable agent's arrivals, each delivered once the look-up of those before it is done: their order stays. */
  arrivals: Promise<void> = Promise.resolve();
  /** Arrivals not yet looked up: what one read took, looked up together. */
  toLookUp: Array<{ entryId: string; message: Message; again: boolean; replay: boolean }> = [];
  /**
   * A durable agent's messages delivered and not yet done, by message id:
   * a copy of one (the same id, in another entry) waits for it to be done
   * before it is looked up, or both would be found not applied yet.
   */
  readonly working = new Map<string, { done: Promise<void>; settle: () => void }>();
  /**
   * A durable agent's last messages whose state writes Redis confirmed, with
   * their answers (JSON, '' when nobody reads one), newest last: a copy that
   * comes again after Redis lost those writes (a failover to a replica that
   * had not got them, a restart without its data) is known here still, and
   * not applied twice to the instance, which holds their effects.
   */
  readonly appliedHere = new Map<string, string>();

  /** Messages `handled` were written with the state: kept in appliedHere (the last APPLIED_HERE). */
  remember(handled: ReadonlyArray<{ of: string; answer: string }>): void {
    for (const { of, answer } of handled) {
      this.appliedHere.delete(of);
      this.appliedHere.set(of, answer);
    }
    while (this.appliedHere.size > APPLIED_HERE) this.appliedHere.delete(this.appliedHere.keys().next().value!);
  }

  /** Its deliveries will never be done (it left, or its instance died): nothing may wait for them. */
  forgetWork(): void {
    for (const work of this.working.values()) work.settle();
    this.working.clear();
    this.toLookUp = [];
  }

  /** The delivery of entry `entryId` is done (answered, its state written, or given up); false when it was not pending. */
  finished(entryId: string): boolean {
    const message = this.pending.get(entryId);
    if (!message) return false;
    this.pending.delete(entryId);
    const work = this.working.get(message.meta.id);
    if (work) {
      this.working.delete(message.meta.id);
      work.settle();
    }
    return true;
  }

  constructor(
    readonly id: string,
    readonly key: string,
    readonly deliver: Deliver,
    /** Entries taken and unanswered at once, at most. */
    readonly window: number,
    /** Its bound in the registry: entries that may wait in its stream. */
    readonly bound: number,
  ) {}

  /** Entries it may take now: what one read asks for, at most. */
  get room(): number {
    return this.window - this.pending.size;
  }

  /** Room for more: it takes part in the next read. */
  get open(): boolean {
    return !this.released && !this.sweep && this.room > 0;
  }
}

/**
 * The message in a stream entry's fields (`["m", json]`), checked as anything
 * from outside the process is: throws MessageValidationError saying what is wrong.
 * Redis is shared, and anyone who can XADD can write into a mailbox.
 */
export function decodeEntry(fields: Reply, mailboxId: string): Message {
  if (!Array.isArray(fields)) throw new MessageValidationError("the entry has no fields (deleted?)");
  if (fields.length !== 2 || fields[0] !== "m" || typeof fields[1] !== "string") {
    throw new MessageValidationError(`the entry must have exactly one field "m" holding the message as JSON`);
  }
  let value: unknown;
  try {
    value = JSON.parse(fields[1]);
  } catch (error) {
    throw new MessageValidationError(`the entry is not JSON: ${(error as Error).message}`);
  }
  validateIncoming(value);
  const badFrom = agentIdProblem(value.from);
  if (badFrom) throw new MessageValidationError(`"from": ${badFrom}`);
  if (value.to !== mailboxId && value.to !== BROADCAST) {
    throw new MessageValidationError(`"to" is "${value.to.slice(0, 60)}", not this mailbox's agent "${mailboxId}" nor "*"`);
  }
  return value;
}
