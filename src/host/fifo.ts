/** Slots of a queue's first ring: most mailboxes hold a message or two at a time. */
const FIRST_RING = 4;
const NO_SLOTS: never[] = [];

/**
 * A first-in, first-out queue in a ring of slots (a power of two of them,
 * doubled when full). Taking from the front never copies what is left, and
 * emptying it never writes an array's length: a mailbox in a ping-pong
 * drains at every message, and both showed in its profile. An empty queue
 * holds no slots until its first item.
 */
export class Fifo<T> {
  #slots: Array<T | undefined> = NO_SLOTS;
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#length) & (this.#slots.length - 1)] = item;
    this.#length++;
  }

  /** The front item, taken out; undefined when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const slots = this.#slots;
    const item = slots[this.#head];
    slots[this.#head] = undefined; // no slot keeps a message alive
    this.#head = (this.#head + 1) & (slots.length - 1);
    this.#length--;
    return item;
  }

  /** Every item, front first, taken out. */
  takeAll(): T[] {
    const items: T[] = [];
    while (this.#length > 0) items.push(this.shift()!);
    return items;
  }

  #grow(): void {
    const old = this.#slots;
    const size = Math.max(FIRST_RING, old.length * 2);
    const slots = new Array<T | undefined>(size).fill(undefined);
    for (let i = 0; i < this.#length; i++) slots[i] = old[(this.#head + i) & (old.length - 1)];
    this.#slots = slots;
    this.#head = 0;
  }
}
