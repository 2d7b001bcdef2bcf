/**
 * The exchange's mailboxes: who owns each, what waits in it, who is
 * listening, and the rule that a message leaves only once its receiver
 * acknowledged it. The HTTP routes (server.ts) only translate to and from this.
 */
import { positionOf, type Entry, type Journal, type StoredMailbox } from "./journal.js";
import { encodeWire, ErrorCode, responseTo, type EntityId, type Header, type WireMessage } from "./wire.js";

/** A caller, as authentication made it: a client name ("" without --auth) and its groups. */
export interface Caller {
  readonly client: string;
  readonly groups: ReadonlySet<string>;
}

/**
 * Someone waiting for messages: an SSE listen takes every one offered, a
 * long-poll one. Each entry is handed out under a delivery number and
 * stays in the mailbox until acknowledged; an SSE event's `id` is its
 * position (see `eventId`).
 */
export interface Waiter {
  /** Takes `entry`; false when it takes no more (a long-poll that got one). */
  offer(entry: Entry, delivery: number): boolean;
  /** The mailbox ended: end the stream or answer 419. */
  terminated(): void;
}

export type Status = "ACTIVE" | "TERMINATED" | "MISSING";

/** The SSE event id of `entry`: its journal position, the same on every delivery and across restarts. */
export function eventId(entry: Entry): string {
  return positionOf(entry.seq).toString();
}

/** A Last-Event-Id header parsed: the position of the last message a listen got (undefined: none, or not one of ours). */
export function lastSeenOf(header: string): bigint | undefined {
  return /^\d{1,30}$/.test(header) ? BigInt(header) : undefined;
}

/** Why a mailbox operation was refused: the route turns each into Academy's status code. */
export class MailboxRefusal extends Error {
  constructor(
    readonly status: 403 | 404 | 413 | 419 | 429,
    message: string,
  ) {
    super(message);
  }
}

export interface MailboxLimits {
  /** A message's serialized size at most (Academy's 1024 KiB, compared there with a shallow in-memory size). */
  maxMessageBytes: number;
  /** What one mailbox may hold, queued and out for delivery, before sends to it are refused with 429. */
  maxMailboxBytes: number;
}

export const DEFAULT_LIMITS: MailboxLimits = { maxMessageBytes: 1024 * 1024, maxMailboxBytes: 64 * 1024 * 1024 };

class Mailbox {
  readonly queue: Entry[] = [];
  /** Entries handed to a waiter and not yet acknowledged, by delivery number. */
  readonly out = new Map<number, Entry>();
  /** Deliveries whose connection dropped: settled by the next listen or receive on the mailbox (see `wait`). */
  readonly doubt = new Set<number>();
  readonly waiters: Waiter[] = [];
  /** Requests delivered here and not yet answered, by tag: what termination answers, what a response may answer. */
  readonly requests = new Map<string, Header>();
  bytes = 0;
  completed = 0;
  outgoing = 0;
  lastActive: number | undefined;
  /** The highest Last-Event-Id a listen on it has sent: the messages up to this position were received. */
  lastSeen: bigint | undefined;
  /** Entries the journal held at start and not handed out since: a reconnecting listen may have had them before the restart. */
  readonly restored = new Set<Entry>();

  constructor(
    readonly id: EntityId,
    public owner: string,
    public agent: string[] | undefined,
    public terminated: boolean,
    readonly shares: Set<string>,
  ) {}

  stored(): StoredMailbox {
    return { id: this.id, owner: this.owner, agent: this.agent, terminated: this.terminated, shares: [...this.shares] };
  }
}

export class Mailboxes {
  readonly #boxes = new Map<string, Mailbox>();
  /** Numbers each hand-out (an entry given again gets a new one); they never leave the exchange. */
  #delivery = 0;
  readonly #journal: Journal;
  readonly limits: MailboxLimits;

  private constructor(journal: Journal, limits: MailboxLimits) {
    this.#journal = journal;
    this.limits = limits;
  }

  /** The mailboxes the journal holds, every message in them queued again (what was out when the exchange stopped was never acknowledged). */
  static async open(journal: Journal, limits: MailboxLimits = DEFAULT_LIMITS): Promise<Mailboxes> {
    const mailboxes = new Mailboxes(journal, limits);
    for (const { mailbox, entries } of await journal.load()) {
      const box = new Mailbox(mailbox.id, mailbox.owner, mailbox.agent, mailbox.terminated, new Set(mailbox.shares));
      for (const entry of entries) {
        box.queue.push(entry);
        box.restored.add(entry);
        box.bytes += entry.bytes;
      }
      mailboxes.#boxes.set(mailbox.id.uid, box);
    }
    return mailboxes;
  }

  get size(): number {
    return this.#boxes.size;
  }

  #permitted(caller: Caller, box: Mailbox): boolean {
    if (box.owner === caller.client) return true;
    for (const group of box.shares) if (caller.groups.has(group)) return true;
    return false;
  }

  /** The mailbox `id` names, when the caller may use it; `undefined` when there is none. */
  #find(caller: Caller, id: EntityId): Mailbox | undefined {
    const box = this.#boxes.get(id.uid);
    if (box === undefined) return undefined;
    if (!this.#permitted(caller, box)) throw new MailboxRefusal(403, "Incorrect permissions");
    return box;
  }

  #open(caller: Caller, id: EntityId): Mailbox {
    const box = this.#find(caller, id);
    if (box === undefined) throw new MailboxRefusal(404, "Unknown mailbox ID");
    if (box.terminated) throw new MailboxRefusal(419, "Mailbox was closed");
    return box;
  }

  /**
   * Creates `id`'s mailbox for the caller; idempotent. A terminated mailbox
   * of the caller's is opened again, empty: agentspace ids are names that a
   * later agent may take (Academy's own server keeps it terminated).
   */
  async create(caller: Caller, id: EntityId, agent: string[] | undefined): Promise<void> {
    const existing = this.#find(caller, id);
    if (existing !== undefined && !existing.terminated) {
      if (agent !== undefined && existing.agent === undefined && id.role === "agent") {
        existing.agent = agent;
        await this.#journal.saveMailbox(existing.stored());
      }
      return;
    }
    const box = new Mailbox(id, caller.client, id.role === "agent" ? agent : undefined, false, existing?.shares ?? new Set());
    await this.#journal.saveMailbox(box.stored());
    this.#boxes.set(id.uid, box);
  }

  status(caller: Caller, id: EntityId): { status: Status; listeners: number } {
    const box = this.#find(caller, id);
    if (box === undefined) return { status: "MISSING", listeners: 0 };
    return { status: box.terminated ? "TERMINATED" : "ACTIVE", listeners: box.waiters.length };
  }

  /**
   * Ends `id`'s mailbox (a gravestone: its status becomes TERMINATED), ends
   * its listens, drops what waited in it, and answers each request it had
   * not answered with Academy's MAILBOX_TERMINATED error, as Academy's server does.
   */
  async terminate(caller: Caller, id: EntityId): Promise<void> {
    const box = this.#find(caller, id);
    if (box === undefined || box.terminated) return;
    box.terminated = true;
    await this.#journal.saveMailbox(box.stored());
    await this.#journal.clear(box.id.uid);
    box.queue.length = 0;
    box.out.clear();
    box.doubt.clear();
    box.bytes = 0;
    for (const waiter of box.waiters.splice(0)) waiter.terminated();
    const pending = [...box.requests.values()];
    box.requests.clear();
    for (const request of pending) {
      const answer = responseTo(request, { error_code: ErrorCode.MAILBOX_TERMINATED, mailbox_id: box.id, kind: "academy-error-response" });
      await this.#deliver(answer, encodeWire(answer)).catch(() => undefined); // the requester may be gone too
    }
  }

  /**
   * Puts a message into its `dest`'s mailbox. The sender must be one of the
   * caller's own mailboxes (Academy checks only the receiver). The receiver
   * must be the caller's too, or shared with it, or the sender answering a
   * request the receiver sent it.
   */
  async put(caller: Caller, message: WireMessage, text: string): Promise<void> {
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > this.limits.maxMessageBytes) {
      throw new MailboxRefusal(413, `Message of size ${bytes} larger than limit ${this.limits.maxMessageBytes}.`);
    }
    const { src, dest, tag } = message.header;
    const sender = this.#boxes.get(src.uid);
    if (sender === undefined || sender.owner !== caller.client) {
      throw new MailboxRefusal(403, "Incorrect permissions: the message's src is not a mailbox of this client");
    }
    const receiver = this.#boxes.get(dest.uid);
    if (receiver === undefined) throw new MailboxRefusal(404, "Unknown mailbox ID");
    const answering = message.header.kind === "response" && sender.requests.get(tag)?.src.uid === dest.uid;
    if (!answering && !this.#permitted(caller, receiver)) throw new MailboxRefusal(403, "Incorrect permissions");
    if (receiver.terminated) throw new MailboxRefusal(419, "Mailbox was closed");
    if (receiver.bytes + bytes > this.limits.maxMailboxBytes) {
      throw new MailboxRefusal(429, `Mailbox full: ${receiver.bytes} bytes wait in it (limit ${this.limits.maxMailboxBytes}); its receiver is not keeping up`);
    }
    sender.lastActive = Date.now();
    sender.outgoing += 1;
    if (message.header.kind === "response" && sender.requests.delete(tag)) sender.completed += 1;
    await this.#deliver(message, text);
  }

  async #deliver(message: WireMessage, text: string): Promise<void> {
    const receiver = this.#boxes.get(message.header.dest.uid);
    if (receiver === undefined || receiver.terminated) return;
    const bytes = Buffer.byteLength(text, "utf8");
    const seq = await this.#journal.append(receiver.id.uid, text);
    if (receiver.terminated) return; // ended while the journal wrote
    if (message.header.kind === "request") receiver.requests.set(message.header.tag, message.header);
    receiver.bytes += bytes;
    receiver.queue.push({ seq, text, bytes });
    this.#dispatch(receiver);
  }

  /**
   * Registers a listen or long-poll on `id`'s mailbox and hands it what is
   * waiting. First it settles the deliveries of a dropped connection: those
   * up to `lastSeen` (the SSE `Last-Event-Id` a reconnecting client sends,
   * Academy's included) were received and leave; the rest come again. So do
   * the messages kept over a restart up to it: they went out, in order,
   * before the exchange stopped. The caller calls the returned function
   * when the waiter goes.
   */
  wait(caller: Caller, id: EntityId, waiter: Waiter, lastSeen?: bigint): () => void {
    const box = this.#open(caller, id);
    box.lastActive = Date.now();
    if (lastSeen !== undefined && (box.lastSeen === undefined || lastSeen > box.lastSeen)) box.lastSeen = lastSeen;
    box.waiters.push(waiter);
    this.#settleDoubt(box);
    this.#settleRestored(box);
    this.#dispatch(box);
    return () => {
      const at = box.waiters.indexOf(waiter);
      if (at >= 0) box.waiters.splice(at, 1);
    };
  }

  /** These deliveries from `id`'s mailbox were received: they leave it. */
  acknowledge(id: EntityId, deliveries: Iterable<number>): void {
    const box = this.#boxes.get(id.uid);
    if (box === undefined) return;
    const gone: string[] = [];
    for (const delivery of deliveries) {
      const entry = box.out.get(delivery);
      if (entry === undefined) continue;
      box.out.delete(delivery);
      box.doubt.delete(delivery);
      box.bytes -= entry.bytes;
      gone.push(entry.seq);
    }
    if (gone.length > 0) this.#journal.remove(box.id.uid, gone);
  }

  /**
   * The connection these deliveries went out on dropped before they were
   * confirmed. They stay out until the next listen or receive on the
   * mailbox says what arrived (see `wait`): only then can they come again
   * without coming twice to a client that tells.
   */
  dropped(id: EntityId, deliveries: Iterable<number>): void {
    const box = this.#boxes.get(id.uid);
    if (box === undefined || box.terminated) return;
    for (const delivery of deliveries) if (box.out.has(delivery)) box.doubt.add(delivery);
    // A reconnection that came before the drop was seen has said what it got already.
    if (box.waiters.length > 0) this.#settleDoubt(box);
  }

  #settleDoubt(box: Mailbox): void {
    if (box.doubt.size === 0) return;
    const seen = box.lastSeen ?? -1n;
    this.acknowledge(box.id, [...box.doubt].filter((delivery) => positionOf(box.out.get(delivery)!.seq) <= seen));
    this.#putBack(box, [...box.doubt]);
    this.#dispatch(box);
  }

  #settleRestored(box: Mailbox): void {
    const seen = box.lastSeen;
    if (box.restored.size === 0 || seen === undefined) return;
    const gone: Entry[] = [];
    for (const entry of box.restored) if (positionOf(entry.seq) <= seen) gone.push(entry);
    if (gone.length === 0) return;
    // In place: a queue restored from Redis may hold more entries than a call takes as arguments.
    const leaving = new Set(gone);
    let kept = 0;
    for (const entry of box.queue) if (!leaving.has(entry)) box.queue[kept++] = entry;
    box.queue.length = kept;
    for (const entry of gone) {
      box.restored.delete(entry);
      box.bytes -= entry.bytes;
    }
    this.#journal.remove(box.id.uid, gone.map((entry) => entry.seq));
  }

  /** These deliveries were never sent (a long-poll that closed first): back to the front at once. */
  giveBack(id: EntityId, deliveries: Iterable<number>): void {
    const box = this.#boxes.get(id.uid);
    if (box === undefined || box.terminated) return;
    this.#putBack(box, [...deliveries]);
    this.#dispatch(box);
  }

  #putBack(box: Mailbox, deliveries: number[]): void {
    const back: Entry[] = [];
    for (const delivery of deliveries.sort((a, b) => a - b)) {
      const entry = box.out.get(delivery);
      if (entry === undefined) continue;
      box.out.delete(delivery);
      box.doubt.delete(delivery);
      back.push(entry);
    }
    box.queue.unshift(...back);
  }

  #dispatch(box: Mailbox): void {
    while (box.queue.length > 0 && box.waiters.length > 0) {
      const waiter = box.waiters[0]!;
      const entry = box.queue.shift()!;
      box.restored.delete(entry);
      const delivery = ++this.#delivery;
      box.out.set(delivery, entry);
      if (!waiter.offer(entry, delivery)) box.waiters.shift();
    }
  }

  /** Seconds since the mailbox was last active (listened on, received from, sent from); null if never. */
  heartbeat(id: EntityId): number | null {
    const box = this.#boxes.get(id.uid);
    if (box === undefined) throw new MailboxRefusal(404, "Unknown mailbox ID");
    return box.lastActive === undefined ? null : (Date.now() - box.lastActive) / 1000;
  }

  /** Academy's AgentStats, computed as Academy computes them. */
  stats(id: EntityId): { incoming: number; outgoing: number; completed: number; in_progress: number; queued: number } {
    const box = this.#boxes.get(id.uid);
    const queued = box?.queue.length ?? 0;
    const pending = box?.requests.size ?? 0;
    const completed = box?.completed ?? 0;
    return { incoming: completed + pending, outgoing: box?.outgoing ?? 0, completed, in_progress: Math.max(0, pending - queued), queued };
  }

  /** The uids of live agents the caller may use whose class is `agent` (or, with `allowSubclasses`, derives from it). */
  discover(caller: Caller, agent: string, allowSubclasses: boolean): string[] {
    const found: string[] = [];
    for (const box of this.#boxes.values()) {
      if (box.agent === undefined || box.terminated || !this.#permitted(caller, box)) continue;
      if (box.agent[0] === agent || (allowSubclasses && box.agent.includes(agent))) found.push(box.id.uid);
    }
    return found;
  }

  /** Shares `id`'s mailbox with `group` (only its owner may). */
  async share(caller: Caller, id: EntityId, group: string, shared: boolean): Promise<void> {
    const box = this.#boxes.get(id.uid);
    if (box === undefined) throw new MailboxRefusal(404, "Unknown mailbox ID");
    if (box.owner !== caller.client) throw new MailboxRefusal(403, "Incorrect permissions");
    if (shared) box.shares.add(group);
    else box.shares.delete(group);
    await this.#journal.saveMailbox(box.stored());
  }

  shares(caller: Caller, id: EntityId): string[] {
    const box = this.#find(caller, id);
    if (box === undefined) throw new MailboxRefusal(404, "Unknown mailbox ID");
    return [...box.shares];
  }

  close(): Promise<void> {
    for (const box of this.#boxes.values()) box.waiters.length = 0;
    return this.#journal.close();
  }
}
