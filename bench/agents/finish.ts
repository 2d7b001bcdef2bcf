/** Where a benchmark learns that agents have done their part: a foreground agent that counts "finished" messages. */
import { Agent, action } from "agentspace";

/**
 * Lives in the bench's thread; `wait(n)` resolves once `n` "finished"
 * messages have come after it was called: the end of a run is an event the
 * agents send, never a poll or a sleep.
 */
export class Finish extends Agent {
  static module = import.meta.url;
  #count = 0;
  #until = 0;
  #wake: (() => void) | undefined;

  @action({ help: "an agent has done its part of the run" })
  finished(): void {
    if (++this.#count === this.#until) this.#wake?.();
  }

  /** Call before the run starts, so that no "finished" can come before it. */
  wait(count: number): Promise<void> {
    this.#count = 0;
    this.#until = count;
    return new Promise((resolve) => (this.#wake = resolve));
  }
}
