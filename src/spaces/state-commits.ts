/** One message a durable agent handled, to be acknowledged with its state: its id, its answer (JSON; "" when nobody reads it) and who gets it. */
export interface HandledMessage {
  of: string;
  answer: string;
  to: string;
}

export type CommitOutcome = "written" | "fenced" | "gone";

/** What StateCommits needs of its space's router. */
export interface StateCommitsSink {
  /** Writes `id`'s state with the acknowledgements, applied ids and answers of `handled`, in one step (see RedisTransport.commit). */
  commit(id: string, state: string, handled: HandledMessage[]): Promise<CommitOutcome>;
  /** Written: the deliveries of `handled` are done. */
  written(id: string, handled: HandledMessage[]): void;
  /** Another process holds `id` now: nothing was written, its instance here must stop. */
  fenced(id: string): void;
  failed(id: string, error: Error): void;
}

/**
 * Durable agents' states on their way to the broker, coalesced per agent:
 * what one agent handled in one turn (a batch from its thread) is written
 * as its last state, with every message's acknowledgement and answer, in one
 * step. A serial agent's states follow each other, so only the last one of
 * a turn needs writing, and each step costs a round trip to the broker.
 */
export class StateCommits {
  readonly #sink: StateCommitsSink;
  #batch = new Map<string, { state: string; handled: HandledMessage[] }>();
  #scheduled = false;

  constructor(sink: StateCommitsSink) {
    this.#sink = sink;
  }

  /** `id`'s state is now `state`, after `handled` (none: it handled an answer). */
  add(id: string, state: string, handled?: HandledMessage): void {
    let entry = this.#batch.get(id);
    if (!entry) this.#batch.set(id, (entry = { state, handled: [] }));
    entry.state = state;
    if (handled) entry.handled.push(handled);
    if (this.#scheduled) return;
    this.#scheduled = true;
    // After the rest of the batch this one came in: what the thread sent together is written together.
    queueMicrotask(() => this.#flush());
  }

  /** `id` left: what it still had on the way is not written. */
  forget(id: string): void {
    this.#batch.delete(id);
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#batch;
    this.#batch = new Map();
    for (const [id, { state, handled }] of batch) {
      this.#sink.commit(id, state, handled).then(
        (outcome) => {
          if (outcome === "written") this.#sink.written(id, handled);
          else if (outcome === "fenced") this.#sink.fenced(id);
        },
        (error: Error) => this.#sink.failed(id, error),
      );
    }
  }
}
