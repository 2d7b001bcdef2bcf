import { RequestTimeoutError } from "./errors.js";
import { checkTimeoutMs, startTimeout, stopTimeout } from "./timeout.js";

export interface RequestOptions {
  /** Reject with RequestTimeoutError after this long; `Infinity` waits forever. */
  timeoutMs?: number;
  /** Reject with the signal's reason when it aborts. */
  signal?: AbortSignal;
}

interface Pending {
  to: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  cleanup(): void;
}

// Answers that arrive after their request gave up are dropped, not handed to
// handleActionValue as if they answered a plain send. Remember that many.
const MAX_ABANDONED = 10_000;

/**
 * Requests awaiting their answer, keyed by the request's message id. Every
 * agent has one, and most never request: the maps are made on first use.
 */
export class PendingRequests {
  #byId: Map<string, Pending> | undefined;
  #abandoned: Set<string> | undefined;

  get size(): number {
    return this.#byId?.size ?? 0;
  }

  /** Whether request `id` to `to` awaits its answer. */
  awaits(id: string, to: string): boolean {
    return this.#byId?.get(id)?.to === to;
  }

  /** Registers a request before it is sent, so that even a synchronous answer finds it. */
  /** Throws RangeError, before anything is sent, for a `timeoutMs` that is not a wait (see `checkTimeoutMs`). */
  add(id: string, to: string, timeoutMs: number, signal?: AbortSignal): Promise<unknown> {
    checkTimeoutMs(timeoutMs, "timeoutMs");
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      const onAbort = () => this.#giveUp(id, to, signal?.reason);
      const timer = startTimeout(
        () => this.#giveUp(id, to, new RequestTimeoutError(`no answer from "${to}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const cleanup = () => {
        stopTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      (this.#byId ??= new Map()).set(id, { to, resolve, reject, cleanup });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Settles the request `id` answers, if `from` is the agent it asked (no
   * other agent can answer for it); false if no such request is waiting.
   */
  settle(id: string | undefined, from: string, ok: boolean, outcome: unknown): boolean {
    // Most answers reach agents that wait for none (a pipelined sender): skip the lookups.
    if (id === undefined || (!this.#byId?.size && !this.#abandoned?.size)) return false;
    const pending = this.#byId?.get(id);
    if (!pending) return this.#abandoned?.delete(id) ?? false;
    if (pending.to !== from) return false;
    this.#byId!.delete(id);
    pending.cleanup();
    if (ok) pending.resolve(outcome);
    else pending.reject(outcome);
    return true;
  }

  /** Rejects every request sent to `to` (it crashed or left the space); a late answer is then dropped. */
  rejectTo(to: string, error: unknown): void {
    if (!this.#byId) return;
    for (const [id, pending] of this.#byId) {
      if (pending.to === to) this.#giveUp(id, to, error);
    }
  }

  /** Rejects every request (the agent is leaving the space). */
  rejectAll(error: unknown): void {
    if (!this.#byId) return;
    for (const [id, pending] of [...this.#byId]) this.settle(id, pending.to, false, error);
  }

  #giveUp(id: string, to: string, error: unknown): void {
    if (!this.settle(id, to, false, error)) return;
    const abandoned = (this.#abandoned ??= new Set());
    abandoned.add(id);
    if (abandoned.size > MAX_ABANDONED) abandoned.delete(abandoned.values().next().value as string);
  }
}
