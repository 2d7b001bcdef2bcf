/**
 * The counts an agent's host keeps for it, one slot per agent in a buffer
 * per thread: the host writes them as it works (in a worker, into shared
 * memory), and the main thread reads them when `space.stats()` asks,
 * without a message either way. Only the host writes; only the main thread
 * hands out slots (and grows the buffer), so no count ever needs a lock.
 */

export const RECEIVED = 0;
export const SENT = 1;
export const ERRORS = 2;
/** Messages in the mailbox not yet taken: the bound's own count (see Mailbox). */
export const DEPTH = 3;
export const LOOPS = 4;
export const TIMERS = 5;
export const SLOT_SIZE = 6;

const BYTES_PER_SLOT = SLOT_SIZE * Float64Array.BYTES_PER_ELEMENT;
const FIRST_SLOTS = 16;
// A reservation of address space, not of memory: a buffer grows into it as agents join.
const MOST_SLOTS = 1 << 20;

/** A view on a thread's counts: the host's side (it only writes the slots it was given). */
export class Counts {
  /** Tracks the buffer's length as the main thread grows it. */
  readonly values: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer | ArrayBuffer) {
    this.values = new Float64Array(buffer);
  }
}

/** The main thread's side: hands out slots, grows the buffer, reads them. */
export class CountSlots extends Counts {
  #free: number[] = [];
  #next = 0;

  /** Shared with a worker thread, or (`shared: false`) for the space's own thread. */
  constructor(shared: boolean) {
    // Growable (ES2024, in Node 20 already); the lib types this project builds against predate the option.
    const Growable = (shared ? SharedArrayBuffer : ArrayBuffer) as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer;
    super(new Growable(FIRST_SLOTS * BYTES_PER_SLOT, { maxByteLength: MOST_SLOTS * BYTES_PER_SLOT }));
  }

  /** A slot of zeros for a new agent. */
  take(): number {
    const slot = this.#free.pop() ?? this.#next++;
    const end = (slot + 1) * BYTES_PER_SLOT;
    const buffer = this.buffer as ArrayBuffer & { grow?(n: number): void; resize?(n: number): void };
    if (end > buffer.byteLength) {
      const size = Math.min(MOST_SLOTS * BYTES_PER_SLOT, Math.max(end, buffer.byteLength * 2));
      if (buffer.grow) buffer.grow(size);
      else buffer.resize!(size);
    }
    this.values.fill(0, slot * SLOT_SIZE, (slot + 1) * SLOT_SIZE);
    return slot;
  }

  /** The agent left: its slot may be handed out again. */
  give(slot: number): void {
    this.#free.push(slot);
  }

  read(slot: number, what: number): number {
    return this.values[slot * SLOT_SIZE + what] ?? 0;
  }
}
