/** The million-agent swarm's agents: each answers one ping; one per thread also reports its thread's heap. */
import { Agent, action } from "agentspace";

export class Resident extends Agent {
  static module = import.meta.url;

  @action
  ping(): number {
    return 1;
  }

  /** This thread's V8 heap in bytes, after a full collection when the process runs with --expose-gc. */
  @action
  heap(): number {
    (globalThis as { gc?: () => void }).gc?.();
    return process.memoryUsage().heapUsed;
  }
}
