/**
 * The wire of the direct path: each frame is a 4-byte big-endian length and
 * that many bytes of JSON, one of the tagged objects below. Everything read
 * is untrusted: a length past MAX_FRAME_BYTES or a frame of no known shape
 * ends the connection (FrameError); the messages a batch carries are checked
 * one by one by whoever delivers them.
 */

/** Frames larger than this are refused: a peer cannot make this process buffer without bound. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** The connecting side's first frame: who it is, and the secret the listener published in Redis (proof it can read the namespace). */
export interface HelloFrame {
  t: "hello";
  token: string;
  secret: string;
}

/** Messages numbered `first`, `first + 1`, … on this connection, in the order sent. */
export interface BatchFrame {
  t: "batch";
  first: number;
  messages: unknown[];
}

/** Why a receiver would not take a message: its agent is not here, its mailbox is full, or it is not a valid message. */
export type Refusal = "absent" | "full" | "invalid";

/**
 * The receiver's word on what it got: every message up to `got` arrived;
 * those in `done` were handled (their agents answered); those in `refused` will not be.
 */
export interface AckFrame {
  t: "ack";
  got: number;
  done: number[];
  refused: Array<[number, Refusal]>;
}

/** "Are you there?": answered by an ack frame. */
export interface PingFrame {
  t: "ping";
}

export type Frame = HelloFrame | BatchFrame | AckFrame | PingFrame;

export class FrameError extends Error {}

export function encodeFrame(frame: Frame): Buffer {
  return frameOf(JSON.stringify(frame));
}

/** A batch frame of messages already encoded one by one (the sender sizes batches by them). */
export function encodeBatch(first: number, encoded: string[]): Buffer {
  return frameOf(`{"t":"batch","first":${first},"messages":[${encoded.join(",")}]}`);
}

function frameOf(body: string): Buffer {
  const length = Buffer.byteLength(body);
  const buffer = Buffer.allocUnsafe(4 + length);
  buffer.writeUInt32BE(length, 0);
  buffer.write(body, 4);
  return buffer;
}

/**
 * Cuts a byte stream into frames, one at a time (a hello read may change the
 * limit for the frames after it); throws FrameError on a frame too long, not
 * JSON, or of no known shape.
 */
export class FrameReader {
  /** The largest frame taken: lowered by a listener until a peer has said a good hello, so a stranger cannot make it buffer much. */
  limit = MAX_FRAME_BYTES;
  #chunks: Buffer[] = [];
  #buffered = 0;
  /** Bytes the frame being read needs in all, once its length is read: chunks are joined only then, never once per chunk. */
  #needed: number | undefined;

  add(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
  }

  /** The next complete frame, or undefined until more bytes come. */
  next(): Frame | undefined {
    if (this.#needed === undefined) {
      if (this.#buffered < 4) return undefined;
      const length = this.#joined().readUInt32BE(0);
      if (length > this.limit) throw new FrameError(`a frame of ${length} bytes (at most ${this.limit})`);
      this.#needed = 4 + length;
    }
    if (this.#buffered < this.#needed) return undefined;
    const data = this.#joined();
    const frame = parseFrame(data.toString("utf8", 4, this.#needed));
    const rest = data.subarray(this.#needed);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    this.#needed = undefined;
    return frame;
  }

  /** Adds `chunk` and returns every frame now complete. */
  push(chunk: Buffer): Frame[] {
    this.add(chunk);
    const frames: Frame[] = [];
    for (let frame = this.next(); frame; frame = this.next()) frames.push(frame);
    return frames;
  }

  #joined(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
    return this.#chunks[0]!;
  }
}

function parseFrame(text: string): Frame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FrameError("a frame that is not JSON");
  }
  if (typeof value !== "object" || value === null) throw new FrameError("a frame that is not an object");
  const frame = value as Record<string, unknown>;
  switch (frame.t) {
    case "hello":
      if (typeof frame.token === "string" && typeof frame.secret === "string") return frame as unknown as HelloFrame;
      break;
    case "batch":
      if (isSeq(frame.first) && Array.isArray(frame.messages)) return frame as unknown as BatchFrame;
      break;
    case "ack":
      if (isSeq(frame.got) && Array.isArray(frame.done) && frame.done.every(isSeq) && Array.isArray(frame.refused) && frame.refused.every(isRefusal)) {
        return frame as unknown as AckFrame;
      }
      break;
    case "ping":
      return { t: "ping" };
  }
  throw new FrameError(`a frame of no known shape (t: ${JSON.stringify(String(frame.t)).slice(0, 40)})`);
}

function isSeq(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isRefusal(value: unknown): value is [number, Refusal] {
  return Array.isArray(value) && value.length === 2 && isSeq(value[0]) && (value[1] === "absent" || value[1] === "full" || value[1] === "invalid");
}
