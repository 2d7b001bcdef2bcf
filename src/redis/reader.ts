import { setTimeout as sleep } from "node:timers/promises";
import { Keys } from "./keys.js";
import { isPassingRefusal, isReplyError, type RedisConnection, type Reply } from "./connection.js";
import type { Mailbox } from "./mailbox.js";

/** What the reader hands back to its transport. */
export interface ReaderSink {
  /** An entry taken from `box`'s stream; `again` when it was taken before (by this process or a dead one). */
  take(box: Mailbox, entryId: string, fields: Reply, again: boolean): void;
  /** Whether an entry is known here already (held, or its ack under way): then it is not delivered twice. */
  known(box: Mailbox, entryId: string): boolean;
  /** A mailbox's consumer group is gone (Redis lost its data): set it up again. */
  regroup(box: Mailbox): Promise<void>;
  /** Something that concerns no one call. */
  error(error: Error): void;
}

/** Entries asked for in one read, at most, per stream. */
const MAX_COUNT = 1_000;

/**
 * The one blocking reader of a process: XREADGROUP BLOCK over the streams of
 * every mailbox with room, as consumer `token` of each one's group. A
 * mailbox that is added, or that gets room again, wakes the read (CLIENT
 * UNBLOCK) so that it is read at once. Before a mailbox is read with `>`,
 * its own pending entries are read from 0 (a sweep): after attaching, they
 * are what a dead process took and never answered; after a reconnect, what
 * a read whose reply was lost took.
 */
export class Reader {
  readonly #connection: RedisConnection;
  readonly #token: string;
  readonly #boxes: ReadonlyMap<string, Mailbox>;
  readonly #sink: ReaderSink;
  readonly #blockMs: number;
  #readerId: number | undefined;
  /** The read in flight, counted: an unblock is for one read only. */
  #reading = 0;
  #blocked = false;
  #unblocking = false;
  /** A wake-up came while an unblock for an earlier read was still trying. */
  #rewake = false;
  #nap: (() => void) | undefined;
  /** Woken between reads: look again before waiting. */
  #dirty = false;
  #stopped = false;
  readonly done: Promise<void>;

  constructor(connection: RedisConnection, token: string, boxes: ReadonlyMap<string, Mailbox>, sink: ReaderSink, blockMs: number) {
    this.#connection = connection;
    this.#token = token;
    this.#boxes = boxes;
    this.#sink = sink;
    this.#blockMs = blockMs;
    connection.on("disconnected", () => (this.#readerId = undefined));
    this.done = this.#run();
  }

  /** Something changed (a mailbox added, one with room again): read again now. */
  wake(): void {
    if (this.#nap) {
      const nap = this.#nap;
      this.#nap = undefined;
      nap();
    } else if (this.#blocked) {
      void this.#unblock(this.#reading);
    } else {
      // Between reads: the loop looks at every mailbox again before it waits.
      this.#dirty = true;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.wake();
  }

  async #run(): Promise<void> {
    while (!this.#stopped && !this.#connection.closed) {
      try {
        if (!this.#connection.connected) {
          await this.#connection.ready();
          continue;
        }
        for (const box of [...this.#boxes.values()]) if (box.sweep && !box.released) await this.#sweep(box);
        await this.#readOnce();
      } catch (error) {
        if (this.#stopped || this.#connection.closed) return;
        // A stream deleted under the read (its agent was removed): nothing was taken.
        if (isReplyError(error) && (error as Error).message.startsWith("UNBLOCKED")) continue;
        if (isReplyError(error) && (error as Error).message.startsWith("NOGROUP")) {
          // Redis lost the groups (restarted without its data): set each up again.
          for (const box of this.#boxes.values()) await this.#sink.regroup(box).catch((e: unknown) => this.#sink.error(e as Error));
          await sleep(50); // never a busy loop, whatever Redis keeps saying
          continue;
        }
        if (isReplyError(error) && !isPassingRefusal(error)) this.#sink.error(new Error(`reading the mailboxes failed: ${(error as Error).message}`, { cause: error }));
        // A read lost with the connection may have taken entries: read each mailbox's own pending ones again.
        for (const box of this.#boxes.values()) box.sweep = true;
        await sleep(100);
      }
    }
  }

  async #readOnce(): Promise<void> {
    this.#dirty = false;
    const boxes = [...this.#boxes.values()];
    if (boxes.some((box) => box.sweep && !box.released)) return;
    const open = boxes.filter((box) => box.open);
    for (const box of boxes) box.throttled = !box.released && !box.sweep && !box.open;
    if (open.length === 0) {
      if (this.#dirty) return;
      await new Promise<void>((resolve) => {
        this.#nap = resolve;
        // Looked again now and then: a wake-up lost to a race costs this much at most.
        setTimeout(() => this.wake(), this.#blockMs).unref();
      });
      this.#nap = undefined;
      return;
    }
    if (this.#readerId === undefined) {
      this.#readerId = Number(await this.#connection.reader.sendCommand(["CLIENT", "ID"]));
      return; // the mailboxes may have changed meanwhile
    }
    if (this.#dirty) return;
    let count = MAX_COUNT;
    for (const box of open) count = Math.min(count, box.room);
    const keys = open.map((box) => box.key);
    const args = ["XREADGROUP", "GROUP", Keys.GROUP, this.#token, "COUNT", String(count), "BLOCK", String(this.#blockMs), "STREAMS", ...keys];
    for (let i = 0; i < keys.length; i++) args.push(">");
    this.#reading++;
    this.#blocked = true;
    let reply: Reply;
    try {
      reply = await this.#connection.reader.sendCommand(args);
    } finally {
      this.#blocked = false;
    }
    this.#deliver(reply, false);
  }

  /** Reads `box`'s own pending entries from the start, delivering those not known here. */
  async #sweep(box: Mailbox): Promise<void> {
    let from = "0";
    for (;;) {
      const args = ["XREADGROUP", "GROUP", Keys.GROUP, this.#token, "COUNT", String(MAX_COUNT), "STREAMS", box.key, from];
      const reply = await this.#connection.commands.sendCommand(args);
      const entries = entriesOf(reply);
      if (entries.length === 0 || box.released) break;
      for (const [entryId, fields] of entries) if (!this.#sink.known(box, entryId)) this.#sink.take(box, entryId, fields, true);
      from = entries[entries.length - 1]![0];
    }
    box.sweep = false;
  }

  #deliver(reply: Reply, again: boolean): void {
    if (!Array.isArray(reply)) return; // timed out, or woken
    for (const stream of reply) {
      if (!Array.isArray(stream)) continue;
      const box = this.#boxes.get(String(stream[0]));
      if (!box || box.released) continue; // left meanwhile: its entries stay pending, for whoever takes the id next
      for (const [entryId, fields] of entriesOf([stream])) this.#sink.take(box, entryId, fields, again);
    }
  }

  // CLIENT UNBLOCK finds the read only once Redis has it; until then (it is
  // on its way) it says 0, and is tried again shortly, for that read only.
  async #unblock(read: number): Promise<void> {
    if (this.#unblocking) {
      this.#rewake = true;
      return;
    }
    this.#unblocking = true;
    this.#rewake = false;
    try {
      for (let attempt = 0; attempt < 50 && this.#blocked && this.#reading === read; attempt++) {
        const id = this.#readerId;
        if (id === undefined) break;
        const unblocked = await this.#connection.commands.sendCommand(["CLIENT", "UNBLOCK", String(id)]).catch(() => 0);
        if (unblocked === 1) break;
        await sleep(2);
      }
    } finally {
      this.#unblocking = false;
      if (this.#rewake && this.#blocked && this.#reading !== read) void this.#unblock(this.#reading);
    }
  }
}

/** The entries of an XREADGROUP reply on one stream: `[[key, [[id, fields], …]]]`. */
function entriesOf(reply: Reply): Array<[string, Reply]> {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const stream = reply[0];
  if (!Array.isArray(stream) || !Array.isArray(stream[1])) return [];
  const entries: Array<[string, Reply]> = [];
  for (const entry of stream[1]) {
    if (Array.isArray(entry) && typeof entry[0] === "string") entries.push([entry[0], entry[1] ?? null]);
  }
  return entries;
}
