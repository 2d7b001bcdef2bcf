/**
 * How messages leave for the exchange, each receiver's in the order sent.
 * On agentspace's own exchange every message waiting goes in the next
 * PUT /messages, one request in flight at a time; on Academy's server, a
 * PUT /message each, one at a time per receiver. Either retries what did
 * not reach the exchange until its deadline, and tells each message's
 * outcome once.
 */
import { encodeWire, MAX_BATCH_MESSAGES, type PutResult, type WireMessage } from "../exchange/wire.js";
import type { Message } from "../message.js";
import type { ExchangeClient, Reply } from "./exchange-client.js";

/** A message on its way; `message` is ours when it is to be told of a failure (undefined for replies made here). */
export interface Outgoing {
  wire: WireMessage;
  message: Message | undefined;
}

export interface OutboxOptions {
  client: ExchangeClient;
  /** How long a message keeps trying an unreachable exchange. */
  retryForMs: number;
  /** A message's outcome: the exchange's reply, or the error that kept it from the exchange. */
  settle(item: Outgoing, outcome: Reply | Error): void;
  reached(): void;
  unreached(error: Error): void;
  closed(): boolean;
}

export interface Outbox {
  send(item: Outgoing): void;
  /** Resolves once everything sent so far has its outcome. */
  drained(): Promise<void>;
}

const RETRY_MS = [50, 100, 250, 500, 1_000, 2_000];
/** A batch holds at most this much message text, unless one message alone is more. */
const BATCH_TEXT_CHARS = 1024 * 1024;

export function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!));
}

/** Academy's server: PUT /message per message, sends to one receiver one after another. */
export class PerMessageOutbox implements Outbox {
  readonly #options: OutboxOptions;
  /** Per receiver uid: the tail of its sends. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  send(item: Outgoing): void {
    const dest = item.wire.header.dest.uid;
    const sent = (this.#tails.get(dest) ?? Promise.resolve()).then(() => this.#put(item));
    this.#tails.set(dest, sent);
    void sent.then(() => {
      if (this.#tails.get(dest) === sent) this.#tails.delete(dest);
    });
  }

  async drained(): Promise<void> {
    await Promise.allSettled([...this.#tails.values()]);
  }

  async #put(item: Outgoing): Promise<void> {
    const { client, retryForMs, settle, reached, unreached, closed } = this.#options;
    const body = { message: encodeWire(item.wire) };
    const deadline = Date.now() + retryForMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = await client.call("PUT", "/message", body);
        reached();
        return settle(item, reply);
      } catch (error) {
        unreached(error as Error);
        if (closed() || Date.now() > deadline) return settle(item, error as Error);
        await backoff(attempt);
      }
    }
  }
}

interface Queued {
  item: Outgoing;
  text: string;
  deadline: number | undefined;
}

/**
 * agentspace's exchange: whatever waits goes in one PUT /messages, the next
 * batch once the last is answered. One request in flight keeps every
 * receiver's order; batching what accumulated meanwhile keeps the exchange
 * busy.
 */
export class BatchOutbox implements Outbox {
  readonly #options: OutboxOptions;
  #queue: Queued[] = [];
  #running: Promise<void> | undefined;

  constructor(options: OutboxOptions) {
    this.#options = options;
  }

  send(item: Outgoing): void {
    this.#queue.push({ item, text: encodeWire(item.wire), deadline: undefined });
    this.#running ??= this.#run();
  }

  async drained(): Promise<void> {
    await this.#running;
  }

  async #run(): Promise<void> {
    const { client, retryForMs, settle, reached, unreached, closed } = this.#options;
    let failures = 0;
    // Let the sends of this turn join the first batch.
    await Promise.resolve();
    while (this.#queue.length > 0) {
      const batch = this.#take();
      const now = Date.now();
      for (const queued of batch) queued.deadline ??= now + retryForMs;
      let reply: Reply;
      try {
        reply = await client.call("PUT", "/messages", { messages: batch.map((queued) => queued.text) });
      } catch (error) {
        unreached(error as Error);
        if (closed() || Date.now() > batch[0]!.deadline!) {
          for (const queued of batch) settle(queued.item, error as Error);
        } else {
          this.#queue.unshift(...batch);
          await backoff(failures++);
        }
        continue;
      }
      reached();
      failures = 0;
      const results = resultsOf(reply, batch.length);
      const again: Queued[] = [];
      batch.forEach((queued, i) => {
        const result = results[i]!;
        // 503: the exchange did not take it (its journal failed); it is sent again, in its place.
        if (result.status === 503 && !closed() && Date.now() <= queued.deadline!) again.push(queued);
        else settle(queued.item, { status: result.status, text: result.text ?? "" });
      });
      if (again.length > 0) {
        this.#queue.unshift(...again);
        await backoff(failures++);
      }
    }
    this.#running = undefined;
  }

  /** The next batch from the front of the queue, within the caps. */
  #take(): Queued[] {
    let chars = 0;
    let count = 0;
    for (const queued of this.#queue) {
      if (count > 0 && (count === MAX_BATCH_MESSAGES || chars + queued.text.length > BATCH_TEXT_CHARS)) break;
      chars += queued.text.length;
      count++;
    }
    return this.#queue.splice(0, count);
  }
}

/** The per-message results of a PUT /messages reply, checked; a reply not of that shape gives each message its status and text. */
function resultsOf(reply: Reply, count: number): PutResult[] {
  if (reply.status === 200) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(reply.text);
    } catch {
      parsed = undefined;
    }
    const results = (parsed as { results?: unknown } | undefined)?.results;
    if (Array.isArray(results) && results.length === count && results.every(isPutResult)) return results;
  }
  const status = reply.status === 200 ? 502 : reply.status;
  const text = reply.status === 200 ? `the exchange answered PUT /messages with no result per message: ${reply.text.slice(0, 200)}` : reply.text;
  return Array.from({ length: count }, () => ({ status, text }));
}

function isPutResult(value: unknown): value is PutResult {
  if (typeof value !== "object" || value === null) return false;
  const { status, text } = value as { status?: unknown; text?: unknown };
  return Number.isInteger(status) && (text === undefined || typeof text === "string");
}
