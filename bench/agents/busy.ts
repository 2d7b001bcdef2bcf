/** A loop that keeps its thread busy: slices of CPU work, yielding between them as a well-behaved loop does. */
import { Agent, loop } from "agentspace";

/** Milliseconds of work per slice, between two yields to the thread's other work. */
const SLICE_MS = 1;

export class Spinner extends Agent {
  static module = import.meta.url;
  slices = 0;

  @loop
  async spin(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const end = performance.now() + SLICE_MS;
      while (performance.now() < end) {} // CPU work the loop does on its own
      this.slices++;
      // setImmediate, not a timer: the loop comes back as soon as the messages waiting meanwhile are handled.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
