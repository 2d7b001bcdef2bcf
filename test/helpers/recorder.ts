import { Agent, action } from "../../src/index.js";

/**
 * A foreground agent that keeps what reaches it (notes, answer values and
 * errors) and lets a test wait for a condition on them: events, not sleeps.
 */
export class Recorder extends Agent {
  notes: unknown[] = [];
  values: unknown[] = [];
  errors: Error[] = [];
  #waiters: Array<() => void> = [];

  @action
  note(args: { event?: unknown }): void {
    this.notes.push(args.event ?? args);
    this.#wake();
  }

  override handleActionValue(value: unknown): void {
    this.values.push(value);
    this.#wake();
  }

  override handleActionError(error: unknown): void {
    this.errors.push(error as Error);
    this.#wake();
  }

  /** Resolves once `condition` holds; re-checked each time something arrives. */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => (condition() ? resolve() : this.#waiters.push(check));
      this.#waiters.push(check);
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const check of waiters) check();
  }
}
