import type { Message } from "./message.js";

interface Emitter {
  on(event: "message", listener: (message: Message) => void): unknown;
  off(event: "message", listener: (message: Message) => void): unknown;
}

/**
 * The messages reaching an agent as an async iterator: buffered while nobody
 * awaits, finished when the agent leaves or the loop breaks.
 */
export class MessageStream implements AsyncIterableIterator<Message> {
  #buffer: Message[] = [];
  #waiting: ((result: IteratorResult<Message>) => void) | undefined;
  #done = false;
  #source: Emitter;
  #listener = (message: Message): void => {
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: message, done: false });
    } else this.#buffer.push(message);
  };

  constructor(source: Emitter, onEnd: (end: () => void) => void) {
    this.#source = source;
    source.on("message", this.#listener);
    onEnd(() => void this.return());
  }

  next(): Promise<IteratorResult<Message>> {
    const message = this.#buffer.shift();
    if (message) return Promise.resolve({ value: message, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<Message>> {
    this.#done = true;
    this.#source.off("message", this.#listener);
    this.#waiting?.({ value: undefined, done: true });
    this.#waiting = undefined;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
