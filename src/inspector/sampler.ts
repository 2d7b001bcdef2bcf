import { formatTrace, kindOf, type MessageKind } from "../trace-format.js";
import { ERROR, RESPONSE, type Message } from "../message.js";
import type { Space } from "../space.js";

/** One routed message as the page shows it: the `.trace` line, and who to whom for filtering. */
export interface TraceLine {
  /** Counts every message seen since the page was first watched: a gap says lines were skipped. */
  seq: number;
  at: number;
  from: string;
  to: string;
  kind: MessageKind;
  text: string;
}

/** Traffic from one agent to another (`to` "*": its broadcasts), in messages per second over the last seconds. */
export interface Edge {
  from: string;
  to: string;
  rate: number;
}

/** The last failure seen of an agent: an `[error]` answer it sent, or its crash. */
export interface LastError {
  at: number;
  error: string;
  stack?: string;
  /** For a crash: what the space did about it. */
  outcome?: string;
}

export interface Sample {
  trace: TraceLine[];
  /** Messages seen since the last sample that no trace line shows (traffic beyond the ring). */
  skipped: number;
  edges: Edge[];
}

// Bounds: what a flood of messages can cost the inspector, whatever its rate.
const RING = 100; // trace lines handed out per sample: at most half of them answers
const PER_CLASS = 50; // messages kept per sender class and kind between two samples
const MAX_RINGS = 64; // classes × kinds with a ring of their own; the rest share one
const WINDOW_BUCKETS = 20; // samples over which edge rates are averaged (5 s at 4 samples a second)
const MAX_EDGES = 300; // edges handed to the page, busiest first
const MAX_ERRORS = 2_000;

/**
 * Watches the space's messages while a page is open, at a cost per message
 * of a few map lookups and one array write: the message itself is kept by
 * reference (never copied) in a ring per sender class and kind (answers or
 * the rest), and formatted only when sampled. A sample takes the newest of
 * each ring in turn, answers and the rest half each: a swarm's traffic is
 * mostly answers, and mostly of its biggest class, which would otherwise
 * crowd out the coordinator's requests. The rings begin anew with each
 * sample. Edges are counted per sender and receiver; rates come from
 * the counts of the last few samples.
 */
export class MessageSampler {
  #space: Space;
  readonly #classOf: (id: string) => string | undefined;
  /** By "<kind>:<sender's class>": the last messages of each. */
  #rings = new Map<string, Ring>();
  #seen = 0;
  #sampledUpTo = 0;
  #counts = new Map<string, Map<string, number>>();
  #buckets: { at: number; counts: Map<string, Map<string, number>> }[] = [];
  #errors = new Map<string, LastError>();
  #listener = (message: Message): void => this.#observe(message);
  #watching = false;

  /** `classOf(id)`: the class of this space's agent `id`, for sampling by class. */
  constructor(space: Space, classOf: (id: string) => string | undefined = () => undefined) {
    this.#space = space;
    this.#classOf = classOf;
  }

  /** Subscribes to the space's messages: only while somebody looks, since a listener turns off the router's unopened forwarding. */
  watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    this.#sampledUpTo = this.#seen;
    this.#space.on("message", this.#listener);
  }

  unwatch(): void {
    if (!this.#watching) return;
    this.#watching = false;
    this.#space.off("message", this.#listener);
    this.#counts.clear();
    this.#buckets = [];
    this.#rings.clear();
  }

  /** The last failure seen of `id`, if any. */
  lastError(id: string): LastError | undefined {
    return this.#errors.get(id);
  }

  /** Records a crash the space reported. */
  crashed(id: string, error: Error, outcome: string | undefined): void {
    const cause = error.cause instanceof Error ? error.cause : undefined;
    const stack = cause?.stack ?? error.stack;
    this.#remember(id, {
      at: Date.now(),
      error: `${error.name}: ${error.message}`,
      ...(stack === undefined ? {} : { stack }),
      ...(outcome === undefined ? {} : { outcome }),
    });
  }

  /** Trace lines and edge rates since the last sample. */
  sample(): Sample {
    const now = Date.now();
    const answers: Ring[] = [];
    const others: Ring[] = [];
    for (const [key, ring] of this.#rings) (key.startsWith("a:") ? answers : others).push(ring);
    const kept = [...fairly(answers, RING / 2), ...fairly(others, RING / 2)].sort((a, b) => a.seq - b.seq);
    const trace: TraceLine[] = kept.map(({ seq, message }) => ({ seq, at: now, from: message.from, to: message.to, kind: kindOf(message), text: traceText(message) }));
    const skipped = this.#seen - this.#sampledUpTo - trace.length;
    this.#sampledUpTo = this.#seen;
    // Sampled: no reason to keep their arguments alive.
    this.#rings.clear();
    this.#buckets.push({ at: now, counts: this.#counts });
    this.#counts = new Map();
    if (this.#buckets.length > WINDOW_BUCKETS) this.#buckets.shift();
    return { trace, skipped, edges: this.#edges(now) };
  }

  #observe(message: Message): void {
    const key = `${message.action.name === RESPONSE ? "a" : "m"}:${this.#classOf(message.from) ?? ""}`;
    let ring = this.#rings.get(key);
    if (ring === undefined) {
      // Past MAX_RINGS, the classes yet unseen this sample share one ring per kind.
      const at = this.#rings.size < MAX_RINGS ? key : `${key[0]}:*`;
      ring = this.#rings.get(at) ?? new Ring(PER_CLASS);
      this.#rings.set(at, ring);
    }
    ring.put(this.#seen, message);
    this.#seen++;
    let row = this.#counts.get(message.from);
    if (!row) this.#counts.set(message.from, (row = new Map()));
    row.set(message.to, (row.get(message.to) ?? 0) + 1);
    if (message.action.name === ERROR) {
      const args = message.action.args;
      const error = typeof args?.error === "string" ? args.error : "Error";
      const stack = typeof args?.stack === "string" ? args.stack : undefined;
      this.#remember(message.from, { at: Date.now(), error, ...(stack === undefined ? {} : { stack }) });
    }
  }

  #remember(id: string, error: LastError): void {
    this.#errors.delete(id); // re-inserted last: the oldest is the first to go
    this.#errors.set(id, error);
    if (this.#errors.size > MAX_ERRORS) this.#errors.delete(this.#errors.keys().next().value as string);
  }

  #edges(now: number): Edge[] {
    const oldest = this.#buckets[0];
    if (!oldest) return [];
    // The window runs from the sample before the oldest bucket; at least one sample's length.
    const seconds = Math.max(0.25, (now - oldest.at) / 1000 + 0.25);
    const totals = new Map<string, Map<string, number>>();
    for (const { counts } of this.#buckets) {
      for (const [from, row] of counts) {
        let total = totals.get(from);
        if (!total) totals.set(from, (total = new Map()));
        for (const [to, count] of row) total.set(to, (total.get(to) ?? 0) + count);
      }
    }
    const edges: Edge[] = [];
    for (const [from, row] of totals) for (const [to, count] of row) edges.push({ from, to, rate: round(count / seconds) });
    edges.sort((a, b) => b.rate - a.rate);
    return edges.slice(0, MAX_EDGES);
  }
}

function traceText(message: Message): string {
  return formatTrace(message, false).replace(/^trace /, "");
}

function round(rate: number): number {
  return Math.round(rate * 10) / 10;
}

/** Up to `count` of the rings' messages: the newest of each ring in turn. */
function fairly(rings: Ring[], count: number): { seq: number; message: Message }[] {
  const queues = rings.map((ring) => ring.newestFirst());
  const taken: { seq: number; message: Message }[] = [];
  for (let i = 0; taken.length < count; i++) {
    let any = false;
    for (const queue of queues) {
      const next = queue[i];
      if (next === undefined) continue;
      any = true;
      taken.push(next);
      if (taken.length === count) break;
    }
    if (!any) break;
  }
  return taken;
}

/** The last `size` messages put, with their sequence numbers. */
class Ring {
  readonly #messages: (Message | undefined)[];
  readonly #seqs: number[];
  #next = 0;

  constructor(readonly size: number) {
    this.#messages = new Array<Message | undefined>(size).fill(undefined);
    this.#seqs = new Array<number>(size).fill(0);
  }

  put(seq: number, message: Message): void {
    this.#messages[this.#next] = message;
    this.#seqs[this.#next] = seq;
    this.#next = (this.#next + 1) % this.size;
  }

  /** The messages kept, the newest first. */
  newestFirst(): { seq: number; message: Message }[] {
    const found: { seq: number; message: Message }[] = [];
    for (let back = 1; back <= this.size; back++) {
      const at = (this.#next - back + this.size) % this.size;
      const message = this.#messages[at];
      if (message === undefined) break; // not yet filled this far
      found.push({ seq: this.#seqs[at]!, message });
    }
    return found;
  }
}
