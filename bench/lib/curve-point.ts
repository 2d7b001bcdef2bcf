/** What bench/probes/curves.ts measures at one number of agents. */
export interface CurvePoint {
  agents: number;
  /** Adding all of them, in batches. */
  fillMs: number;
  /** Adding one more agent, then removing it, each timed on its own. */
  addMs: number[];
  removeMs: number[];
  /** One agent pipelining to another among them, msg/s. */
  throughput: number;
  /** Sequential agent → agent request round trips, ns each. */
  requestNs: number[];
}

/** Up to this many agents each get a worker thread of its own; beyond, `threads: "auto"`. */
export const OWN_THREADS_UP_TO = 128;
