/** Throughput: one agent pipelines small messages to another. */
import { Agent, action } from "agentspace";

/** Takes messages and counts them. */
export class Sink extends Agent {
  static module = import.meta.url;
  #taken = 0;
  #sum = 0;

  @action
  take({ n }: { n: number }): void {
    this.#taken += 1;
    this.#sum += n;
  }

  /** How many were taken since the last call; starts counting again. */
  @action
  count(): number {
    const taken = this.#taken;
    this.#taken = 0;
    this.#sum = 0;
    return taken;
  }
}

/**
 * Sends `n` messages to `to` without waiting for any answer, then one
 * request: messages from one sender to one receiver are taken in the order
 * sent, so its answer means every message before it was taken.
 */
export class Sender extends Agent {
  static module = import.meta.url;
  #failed = 0;
  #firstFailure: unknown;

  /** A send that failed (e.g. a full mailbox): counted, and reported by blast, instead of a warning per message. */
  override handleActionError(error: unknown): void {
    if (this.#failed++ === 0) this.#firstFailure = error;
  }

  @action
  async blast({ to, n }: { to: string; n: number }): Promise<number> {
    this.#failed = 0;
    for (let i = 0; i < n; i++) this.send({ to, action: { name: "take", args: { n: i } } });
    const taken = await this.request<number>({ to, action: { name: "count", args: {} } }, { timeoutMs: Infinity });
    if (taken !== n) {
      const why = this.#failed > 0 ? `; ${this.#failed} sends failed, the first with ${String(this.#firstFailure)}` : "";
      throw new Error(`"${to}" took ${taken} of ${n} messages${why}`);
    }
    return taken;
  }
}
