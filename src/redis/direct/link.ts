import type { Socket } from "node:net";
import { EventEmitter } from "eventemitter3";
import type { Message } from "../../message.js";
import { FrameError, FrameReader, MAX_FRAME_BYTES, encodeBatch, encodeFrame, type AckFrame, type BatchFrame, type Frame, type HelloFrame, type Refusal } from "./frames.js";

/** Messages written and not yet acknowledged as handled, at most: past it they wait here, so a slow peer holds a bounded amount. */
const WINDOW = 10_000;
/** The largest frame a peer may send before its hello is accepted: a hello is far smaller. */
const HELLO_MAX_BYTES = 4_096;
/** Messages per batch frame, at most: large enough for a burst, small enough that acks come back while the rest is written. */
const BATCH = 512;
/** A frame is closed once its messages pass this size: far below MAX_FRAME_BYTES. */
const BATCH_BYTES = 1024 * 1024;
/** Room for messages in one frame: MAX_FRAME_BYTES less its envelope and commas. */
const ROOM = MAX_FRAME_BYTES - 64 - BATCH;

export interface LinkEvents {
  /** The accepting side: the peer said hello and was admitted as process `token`. */
  admitted: (token: string) => void;
  /** Messages that arrived, numbered from `first`: each must be answered with `ack`. */
  batch: (first: number, messages: unknown[]) => void;
  /** The peer will not take `message`. */
  refused: (message: Message, why: Refusal) => void;
  /** `message` is too large for a frame: it was not sent. */
  tooLarge: (message: Message) => void;
  /** The connection is gone: what was sent and not acknowledged, and what was never sent, in the order given. */
  closed: (unacknowledged: Message[], error: Error | undefined) => void;
}

export interface LinkOptions {
  /** How long the peer may leave what was sent unconfirmed, or a hello unsaid, before the connection is given up. */
  timeoutMs: number;
  /** The connecting side: the hello to open with. */
  hello?: HelloFrame;
  /** The accepting side: the peer's token if its hello is good, else undefined (the connection is closed). */
  admit?: (hello: HelloFrame) => string | undefined;
}

/**
 * One connection between two processes, used both ways: messages go out in
 * numbered batches and stay held until the peer says they were handled (or
 * refused); messages that came in are acknowledged in one frame per turn.
 * A peer that confirms nothing for `timeoutMs` (it stopped reading, its host
 * is gone) ends the connection: what it held comes back through `closed`.
 */
export class Link extends EventEmitter<LinkEvents> {
  readonly #socket: Socket;
  readonly #reader = new FrameReader();
  readonly #timeoutMs: number;
  readonly #admit: LinkOptions["admit"];
  #admitted: boolean;
  /** Written and not yet handled, by sequence number (in the order sent). */
  #unacked = new Map<number, Message>();
  /** Not yet written: the window is full or the socket is busy. */
  #queue: Message[] = [];
  #nextSeq = 1;
  /** The peer has confirmed arrival of every message up to this one. */
  #got = 0;
  /** Since when something sent (a batch, a ping) has waited for word from the peer; undefined when nothing waits. */
  #waitingSince: number | undefined;
  #lastHeard = Date.now();
  /** A write is due at the end of this turn: batches, then acks, in one syscall. */
  #writeScheduled = false;
  /** Receiving: the next sequence number expected, and what to tell the peer in the next ack frame. */
  #receiveNext: number | undefined;
  #done: number[] = [];
  #refusedHere: Array<[number, Refusal]> = [];
  #ackDue = false;
  #idle: Array<() => void> = [];
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(socket: Socket, options: LinkOptions) {
    super();
    this.#socket = socket;
    this.#timeoutMs = options.timeoutMs;
    this.#admit = options.admit;
    this.#admitted = options.admit === undefined;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#read(chunk));
    socket.on("drain", () => this.#flush());
    socket.on("error", (error) => this.#end(error));
    socket.on("close", () => this.#end(new Error("the connection closed")));
    if (options.hello) this.#write(options.hello);
    else {
      this.#waitingSince = Date.now(); // the peer's hello is awaited as an answer is
      this.#reader.limit = HELLO_MAX_BYTES;
    }
    this.#timer = setInterval(() => this.#check(), Math.max(10, Math.floor(this.#timeoutMs / 4))).unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Messages held for the peer: sent and unacknowledged, or waiting to be sent. */
  get holding(): number {
    return this.#unacked.size + this.#queue.length;
  }

  send(message: Message): void {
    this.#queue.push(message);
    this.#scheduleWrite();
  }

  /** Takes back every held message to `to` (its agent is not at the peer), in order; their late acks are ignored. */
  takeBack(to: string): Message[] {
    const taken: Message[] = [];
    for (const [seq, message] of this.#unacked) {
      if (message.to !== to) continue;
      this.#unacked.delete(seq);
      taken.push(message);
    }
    const kept: Message[] = [];
    for (const message of this.#queue) (message.to === to ? taken : kept).push(message);
    this.#queue = kept;
    this.#wakeIdle();
    return taken;
  }

  /** The receiving side's verdict on message `seq` of a batch. */
  ack(seq: number, verdict: "done" | Refusal): void {
    if (this.#closed) return;
    if (verdict === "done") this.#done.push(seq);
    else this.#refusedHere.push([seq, verdict]);
    this.#ackDue = true;
    this.#scheduleWrite();
  }

  /** Resolves once nothing is held for the peer, or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void> {
    if (this.holding === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(error?: Error): void {
    this.#end(error);
    this.#socket.destroy();
  }

  #flush(): void {
    if (this.#closed || !this.#admitted) return;
    while (this.#queue.length > 0 && this.#unacked.size < WINDOW && !this.#socket.writableNeedDrain) {
      // Spliced a batch at a time: shifting one by one off a long queue moves all of it each time.
      const chunk = this.#queue.splice(0, Math.min(BATCH, WINDOW - this.#unacked.size));
      const first = this.#nextSeq;
      const encoded: string[] = [];
      let bytes = 0;
      let taken = 0;
      let tooLarge: Message | undefined;
      for (; taken < chunk.length && bytes < BATCH_BYTES; taken++) {
        const message = chunk[taken]!;
        const json = JSON.stringify(message);
        // Three bytes per UTF-16 unit bound its UTF-8 size; counted exactly only when that bound is too coarse.
        const size = json.length * 3 > ROOM ? Buffer.byteLength(json) : json.length * 3;
        if (size > ROOM) {
          tooLarge = message;
          taken++;
          break;
        }
        if (bytes + size > ROOM) break;
        encoded.push(json);
        bytes += size;
        this.#unacked.set(this.#nextSeq++, message);
      }
      // What did not fit goes back to the front, in order.
      if (taken < chunk.length) this.#queue = chunk.slice(taken).concat(this.#queue);
      if (encoded.length > 0) {
        this.#waitingSince ??= Date.now();
        this.#socket.write(encodeBatch(first, encoded));
      }
      if (tooLarge) this.emit("tooLarge", tooLarge);
    }
  }

  #write(frame: Frame): void {
    this.#socket.write(encodeFrame(frame));
  }

  #read(chunk: Buffer): void {
    this.#reader.add(chunk);
    this.#lastHeard = Date.now();
    for (;;) {
      let frame: Frame | undefined;
      try {
        frame = this.#reader.next();
      } catch (error) {
        return this.close(error as Error);
      }
      if (!frame || this.#closed) return;
      if (!this.#admitted) {
        this.#hello(frame);
        continue;
      }
      switch (frame.t) {
        case "batch":
          this.#arrived(frame);
          break;
        case "ack":
          this.#acked(frame);
          break;
        case "ping":
          this.#ackDue = true;
          this.#scheduleWrite();
          break;
        case "hello":
          return this.close(new FrameError("a second hello"));
      }
    }
  }

  #hello(frame: Frame): void {
    const token = frame.t === "hello" ? this.#admit?.(frame) : undefined;
    if (token === undefined) return this.close(new FrameError("no valid hello"));
    this.#admitted = true;
    this.#reader.limit = MAX_FRAME_BYTES;
    this.#waitingSince = undefined;
    this.emit("admitted", token);
    this.#flush();
  }

  #arrived(frame: BatchFrame): void {
    // Numbered in order without gaps, or the peer is not one of ours.
    if (this.#receiveNext !== undefined && frame.first !== this.#receiveNext) {
      return this.close(new FrameError(`batch numbered ${frame.first}, expected ${this.#receiveNext}`));
    }
    if (frame.messages.length === 0) return;
    this.#receiveNext = frame.first + frame.messages.length;
    this.#ackDue = true;
    this.#scheduleWrite();
    this.emit("batch", frame.first, frame.messages);
  }

  #acked(frame: AckFrame): void {
    this.#got = Math.max(this.#got, Math.min(frame.got, this.#nextSeq - 1));
    // Word from the peer: what waits now waits from here, until all sent is confirmed.
    this.#waitingSince = this.#got >= this.#nextSeq - 1 ? undefined : Date.now();
    for (const seq of frame.done) this.#unacked.delete(seq);
    for (const [seq, why] of frame.refused) {
      const message = this.#unacked.get(seq);
      if (!message) continue;
      this.#unacked.delete(seq);
      this.emit("refused", message, why);
    }
    this.#flush();
    this.#wakeIdle();
  }

  #scheduleWrite(): void {
    if (this.#writeScheduled) return;
    this.#writeScheduled = true;
    // After the current turn: everything sent in it goes in one frame, and its acks with it.
    setImmediate(() => {
      this.#writeScheduled = false;
      if (this.#closed) return;
      this.#socket.cork();
      this.#flush();
      if (this.#ackDue) this.#writeAck();
      this.#socket.uncork();
    });
  }

  #writeAck(): void {
    this.#ackDue = false;
    const got = this.#receiveNext === undefined ? 0 : this.#receiveNext - 1;
    this.#write({ t: "ack", got, done: this.#done, refused: this.#refusedHere } satisfies AckFrame);
    this.#done = [];
    this.#refusedHere = [];
  }

  /** A peer silent while something waits for it is given up; one quiet while it holds messages is asked. */
  #check(): void {
    if (this.#closed) return;
    const now = Date.now();
    if (this.#waitingSince !== undefined && now - this.#waitingSince > this.#timeoutMs) {
      return this.close(new Error(`the peer confirmed nothing for ${this.#timeoutMs} ms`));
    }
    if (this.#waitingSince === undefined && this.#unacked.size > 0 && now - this.#lastHeard > this.#timeoutMs / 2) {
      this.#waitingSince = now;
      this.#write({ t: "ping" });
    }
  }

  #wakeIdle(): void {
    if (this.holding === 0) for (const wake of this.#idle.splice(0)) wake();
  }

  #end(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    const held = [...this.#unacked.values(), ...this.#queue];
    this.#unacked.clear();
    this.#queue = [];
    this.#wakeIdle();
    for (const wake of this.#idle.splice(0)) wake();
    this.emit("closed", held, error);
  }
}
