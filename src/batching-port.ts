import type { MessagePort } from "node:worker_threads";
import type { PortItem } from "./protocol.js";

// Structured clone is paid per postMessage call, so items are sent in
// batches: everything queued in one turn of the event loop goes in one call.
// The cap bounds the size of one clone (and the latency of the first item in it).
const MAX_BATCH = 512;

/** One end of a data port that sends items in batches, in the order pushed. */
export class BatchingPort {
  #port: MessagePort;
  #batch: PortItem[] = [];
  #scheduled = false;
  #onUncloneable: (item: PortItem, error: unknown) => void;
  #beforeFlush: (() => PortItem[]) | undefined;

  /**
   * `onUncloneable` gets each item that structured clone refused; the rest
   * still go. `beforeFlush` may give last items for each batch.
   */
  constructor(port: MessagePort, onUncloneable: (item: PortItem, error: unknown) => void, beforeFlush?: () => PortItem[]) {
    this.#port = port;
    this.#onUncloneable = onUncloneable;
    this.#beforeFlush = beforeFlush;
  }

  /** Makes sure a flush is coming, even with nothing queued yet. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(this.flush);
  }

  push(item: PortItem): void {
    this.#batch.push(item);
    if (this.#batch.length >= MAX_BATCH) this.flush();
    else this.schedule();
  }

  flush = (): void => {
    this.#scheduled = false;
    if (this.#beforeFlush) for (const item of this.#beforeFlush()) this.#batch.push(item);
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    try {
      this.#port.postMessage(batch);
    } catch {
      this.#sendOneByOne(batch);
    }
  };

  // Rare: something in the batch cannot be cloned. Send the rest, keeping their order.
  #sendOneByOne(batch: PortItem[]): void {
    for (const item of batch) {
      try {
        this.#port.postMessage([item]);
      } catch (error) {
        this.#onUncloneable(item, error);
      }
    }
  }
}
