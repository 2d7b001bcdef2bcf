import type { MessagePort } from "node:worker_threads";
import { BROADCAST, type Message } from "./message.js";
import { isEnvelope, seal, type PortItem } from "./protocol.js";

// Structured clone is paid per postMessage call, so items are sent in
// batches: everything queued in one turn of the event loop goes in one call.
// The cap bounds the size of one clone (and the latency of the first item in it).
const MAX_BATCH = 512;

// An envelope costs a serialize call and a buffer of its own: worth it for a
// run of messages to one receiver, not for a stray answer.
const SEAL_AT_LEAST = 16;

export interface BatchingPortOptions {
  /** Gets each item that structured clone refused; the rest still go. */
  onUncloneable: (item: PortItem, error: unknown) => void;
  /** May give last items for each batch. */
  beforeFlush?: () => PortItem[];
  /**
   * Seal each batch's runs of messages from one agent to another into
   * envelopes (a worker's outbound side), so the router forwards them unopened.
   */
  seal?: boolean;
}

/** One end of a data port that sends items in batches, in the order pushed. */
export class BatchingPort {
  #port: MessagePort;
  #batch: PortItem[] = [];
  #scheduled = false;
  #options: BatchingPortOptions;

  constructor(port: MessagePort, options: BatchingPortOptions) {
    this.#port = port;
    this.#options = options;
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
    if (this.#options.beforeFlush) for (const item of this.#options.beforeFlush()) this.#batch.push(item);
    if (this.#batch.length === 0) return;
    const batch = this.#options.seal ? sealRuns(this.#batch) : this.#batch;
    this.#batch = [];
    try {
      this.#port.postMessage(batch, transfers(batch));
    } catch {
      this.#sendOneByOne(batch);
    }
  };

  // Rare: something in the batch cannot be cloned. Send the rest, keeping their order.
  #sendOneByOne(batch: PortItem[]): void {
    for (const item of batch) {
      try {
        this.#port.postMessage([item], transfers([item]));
      } catch (error) {
        this.#options.onUncloneable(item, error);
      }
    }
  }
}

/** The envelopes' buffers move to the other thread instead of being copied. */
function transfers(batch: PortItem[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const item of batch) if (isEnvelope(item)) buffers.push(item.bytes);
  return buffers;
}

function isMessage(item: PortItem): item is Message {
  return (item as Message).meta !== undefined && (item as Message).to !== BROADCAST;
}

/**
 * Replaces each run of at least SEAL_AT_LEAST messages from one agent to
 * another by one envelope, where the run's first message stood. Per pair of
 * agents the order is kept; the other items keep theirs, and anything an
 * agent sends before its end-of-stream marker still comes before it.
 */
function sealRuns(batch: PortItem[]): PortItem[] {
  const runs = new Map<string, Message[]>();
  for (const item of batch) {
    if (!isMessage(item)) continue;
    const key = `${item.from}\n${item.to}`;
    const run = runs.get(key);
    if (run) run.push(item);
    else runs.set(key, [item]);
  }
  let any = false;
  for (const run of runs.values()) if (run.length >= SEAL_AT_LEAST) any = true;
  if (!any) return batch;
  const sealed: PortItem[] = [];
  for (const item of batch) {
    if (!isMessage(item)) {
      sealed.push(item);
      continue;
    }
    const key = `${item.from}\n${item.to}`;
    const run = runs.get(key);
    if (!run || run.length < SEAL_AT_LEAST) sealed.push(item);
    else if (run[0] === item) sealed.push(...sealOrKeep(run));
  }
  return sealed;
}

/** An envelope, or the messages as they are when one cannot be serialized (its sender is then told, one by one). */
function sealOrKeep(run: Message[]): PortItem[] {
  try {
    return [seal(run[0]!.from, run[0]!.to, run)];
  } catch {
    return run;
  }
}
