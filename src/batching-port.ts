import type { MessagePort } from "node:worker_threads";
import { namesDebugAction } from "./debug-gate.js";
import { BROADCAST, type Message } from "./message.js";
import { seal, type Envelope, type MessagesItem, type PortItem, type SeenItem } from "./protocol.js";

// Structured clone is paid per postMessage call, so items are sent in
// batches: everything queued in one turn of the event loop goes in one call.
// The cap bounds the size of one clone (and the latency of the first item in it).
const MAX_BATCH = 512;

// An envelope costs a serialize call and a buffer of its own: worth it for a
// run of messages to one receiver, not for a stray answer.
const SEAL_AT_LEAST = 16;

export interface BatchingPortOptions {
  /** Gets each item that structured clone refused (a run of messages is tried message by message); the rest still go. */
  onUncloneable: (item: PortItem, error: unknown) => void;
  /**
   * Seal each batch's runs of messages from one agent to another into
   * envelopes (a worker's outbound side), so the router forwards them unopened.
   */
  seal?: boolean;
}

/**
 * One end of a data port that sends items in batches, in the order pushed.
 * Consecutive messages travel as one tagged run (`MessagesItem`).
 */
export class BatchingPort {
  #port: MessagePort;
  #batch: PortItem[] = [];
  /** The run the next message of its kind joins, while it is the batch's last item. */
  #run: MessagesItem | SeenItem | undefined;
  /** Messages and items queued, for the batch cap. */
  #count = 0;
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

  pushMessage(message: Message): void {
    this.#pushToRun("messages", message);
  }

  /** A message handed between thread-mates, reported while the space is watched. */
  pushSeen(message: Message): void {
    this.#pushToRun("seen", message);
  }

  push(item: Exclude<PortItem, MessagesItem | SeenItem>): void {
    this.#run = undefined;
    this.#batch.push(item);
    this.#queued();
  }

  flush = (): void => {
    this.#scheduled = false;
    this.#run = undefined;
    // Fewer messages than a run needs: nothing to seal, and nothing to look through.
    const mightSeal = this.#options.seal === true && this.#count >= SEAL_AT_LEAST;
    this.#count = 0;
    if (this.#batch.length === 0) return;
    const batch = mightSeal ? sealRuns(this.#batch) : this.#batch;
    this.#batch = [];
    try {
      this.#port.postMessage(batch, transfers(batch));
    } catch {
      this.#sendOneByOne(batch);
    }
  };

  #pushToRun(kind: "messages" | "seen", message: Message): void {
    if (this.#run?.kind === kind) this.#run.messages.push(message);
    else {
      const run: MessagesItem | SeenItem = { kind, messages: [message] };
      this.#run = run;
      this.#batch.push(run);
    }
    this.#queued();
  }

  #queued(): void {
    if (++this.#count >= MAX_BATCH) this.flush();
    else this.schedule();
  }

  // Rare: something in the batch cannot be cloned. Send the rest, keeping their order.
  #sendOneByOne(batch: PortItem[]): void {
    for (const item of batch) {
      if (item.kind !== "messages" && item.kind !== "seen") this.#sendAlone(item);
      else for (const message of item.messages) this.#sendAlone({ kind: item.kind, messages: [message] });
    }
  }

  #sendAlone(item: PortItem): void {
    try {
      this.#port.postMessage([item], transfers([item]));
    } catch (error) {
      this.#options.onUncloneable(item, error);
    }
  }
}

/** The envelopes' buffers move to the other thread instead of being copied. */
function transfers(batch: PortItem[]): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const item of batch) if (item.kind === "envelope") buffers.push(item.bytes);
  return buffers;
}

/** The pair of agents a message may be sealed with, or undefined if it travels open. */
function runKey(message: Message): string | undefined {
  // The router checks who may call a debug action, so those never travel sealed.
  if (message.to === BROADCAST || namesDebugAction(message)) return undefined;
  return `${message.from}\n${message.to}`;
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
    if (item.kind !== "messages") continue;
    for (const message of item.messages) {
      const key = runKey(message);
      if (key === undefined) continue;
      const run = runs.get(key);
      if (run) run.push(message);
      else runs.set(key, [message]);
    }
  }
  let any = false;
  for (const run of runs.values()) if (run.length >= SEAL_AT_LEAST) any = true;
  if (!any) return batch;
  const sealed: PortItem[] = [];
  let loose: Message[] | undefined;
  for (const item of batch) {
    if (item.kind !== "messages") {
      sealed.push(item);
      loose = undefined;
      continue;
    }
    for (const message of item.messages) {
      const key = runKey(message);
      const run = key === undefined ? undefined : runs.get(key);
      if (!run || run.length < SEAL_AT_LEAST) {
        if (!loose) sealed.push({ kind: "messages", messages: (loose = []) });
        loose.push(message);
      } else if (run[0] === message) {
        const envelope = sealOrKeep(run);
        if (envelope.kind === "envelope") {
          sealed.push(envelope);
          loose = undefined;
        } else {
          if (!loose) sealed.push({ kind: "messages", messages: (loose = []) });
          loose.push(...envelope.messages);
        }
      }
    }
  }
  return sealed;
}

/** An envelope, or the messages as they are when they cannot be serialized (their sender is then told, one by one). */
function sealOrKeep(run: Message[]): Envelope | MessagesItem {
  try {
    return seal(run[0]!.from, run[0]!.to, run);
  } catch {
    return { kind: "messages", messages: run };
  }
}
