/**
 * The counts an agent's host keeps for it, one slot per agent in buffers
 * per thread: the host writes them as it works (in a worker, into shared
 * memory), and the main thread reads them when `space.stats()` asks, without
 * a message either way. Only the host writes; only the main thread hands out
 * slots, so no count ever needs a lock.
 */

export const RECEIVED = 0;
export const SENT = 1;
export const ERRORS = 2;
/** Messages in the mailbox not yet taken: the bound's own count (see Mailbox). */
export const DEPTH = 3;
export const LOOPS = 4;
export const TIMERS = 5;
/** Async actions started and not yet settled: a virtual agent with any is not idle. */
export const WORKING = 6;
export const SLOT_SIZE = 7;

/** Where one agent's counts are: a view on its chunk, and the index of its first count there. */
export interface CountsSlot {
  values: Float64Array;
  at: number;
}

// Slots come in chunks of fixed-size buffers, each twice the last up to a
// cap: a typed array over a growable buffer is several times slower to write
// (V8 cannot assume its length), and a count is written on every message.
const FIRST_CHUNK_SLOTS = 16;
const MOST_CHUNK_SLOTS = 1 << 16;

/** The main thread's side: hands out slots, in chunks it makes as they are needed, and reads them. */
export class CountSlots {
  #shared: boolean;
  #chunks: Float64Array[] = [];
  /** The first slot number of each chunk. */
  #starts: number[] = [];
  #free: number[] = [];
  #next = 0;

  /** Shared with a worker thread, or (`shared: false`) for the space's own thread. */
  constructor(shared: boolean) {
    this.#shared = shared;
  }

  /** A slot of zeros for a new agent. */
  take(): number {
    const slot = this.#free.pop() ?? this.#next++;
    const { values, at } = this.slot(slot);
    values.fill(0, at, at + SLOT_SIZE);
    return slot;
  }

  /** The agent left: its slot may be handed out again. */
  give(slot: number): void {
    this.#free.push(slot);
  }

  /** The chunk `slot` is in (made if need be) and its index there. */
  slot(slot: number): CountsSlot & { chunk: number } {
    let chunk = this.#starts.length - 1;
    while (chunk >= 0 && this.#starts[chunk]! > slot) chunk--;
    while (chunk < 0 || slot >= this.#starts[chunk]! + this.#chunks[chunk]!.length / SLOT_SIZE) chunk = this.#grow();
    return { values: this.#chunks[chunk]!, at: (slot - this.#starts[chunk]!) * SLOT_SIZE, chunk };
  }

  /** Chunk `index`'s buffer, to hand to the thread that writes it. */
  buffer(index: number): ArrayBufferLike {
    return this.#chunks[index]!.buffer;
  }

  read(slot: number, what: number): number {
    const { values, at } = this.slot(slot);
    return values[at + what]!;
  }

  #grow(): number {
    const index = this.#chunks.length;
    const slots = Math.min(MOST_CHUNK_SLOTS, FIRST_CHUNK_SLOTS << index);
    const bytes = slots * SLOT_SIZE * Float64Array.BYTES_PER_ELEMENT;
    this.#chunks.push(new Float64Array(this.#shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes)));
    this.#starts.push(index === 0 ? 0 : this.#starts[index - 1]! + this.#chunks[index - 1]!.length / SLOT_SIZE);
    return index;
  }
}
