import { activitiesOf, type ActivitySpec } from "../loops.js";

/** What an agent's host hears from its activity. */
export interface ActivityEvents {
  /**
   * A loop or timer threw (not because the signal aborted): the agent has
   * failed. Said once per instance; everything else it runs is aborted first.
   */
  failed(spec: ActivitySpec, error: unknown): void;
  /** The number of loops or timers running changed. */
  changed(loops: number, timers: number): void;
}

/**
 * One agent instance's own activity: its `@loop`s and `@timer`s, started
 * after `afterAdd()` and stopped before `beforeRemove()`. The host of the
 * agent (the worker host, or the space's thread) owns it, since the host
 * drives the agent's whole life; loops run in the agent's thread, beside
 * its mailbox.
 */
export class AgentActivity {
  #agent: object;
  #events: ActivityEvents;
  #controller = new AbortController();
  /** Loop runs and timer runs in flight, with the name of what runs. */
  #running = new Map<Promise<void>, string>();
  #loops = 0;
  #timers = new Map<string, NodeJS.Timeout>();

  constructor(agent: object, events: ActivityEvents) {
    this.#agent = agent;
    this.#events = events;
  }

  /** Whether the agent has any loop or timer at all (most have none: nothing is started for them). */
  static any(agent: object): boolean {
    return activitiesOf(Object.getPrototypeOf(agent)).length > 0;
  }

  get loops(): number {
    return this.#loops;
  }

  get timers(): number {
    return this.#timers.size;
  }

  /** Starts every loop, and the first wait of every timer. */
  start(): void {
    for (const spec of activitiesOf(Object.getPrototypeOf(this.#agent))) {
      if (spec.kind === "loop") this.#startLoop(spec);
      else this.#schedule(spec);
    }
    this.#changed();
  }

  /**
   * Aborts the signal, stops the timers and waits for what still runs to
   * settle, for `timeoutMs` at most. Resolves with the names of what had not
   * settled by then (a loop that ignores its signal): none, normally.
   */
  async stop(timeoutMs: number): Promise<string[]> {
    this.#halt();
    if (this.#running.size === 0) return [];
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      if (Number.isFinite(timeoutMs)) timeout = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled(this.#running.keys()), timedOut]);
    clearTimeout(timeout);
    return [...new Set(this.#running.values())];
  }

  #startLoop(spec: ActivitySpec): void {
    this.#loops++;
    this.#track(spec, () => {
      this.#loops--;
      this.#changed();
    });
  }

  #schedule(spec: ActivitySpec): void {
    if (this.#controller.signal.aborted) return;
    // Counted from the end of the previous run: no overlap, no catch-up burst.
    const timeout = setTimeout(() => this.#track(spec, () => this.#schedule(spec)), spec.everyMs);
    this.#timers.set(spec.name, timeout);
  }

  /** Runs `spec` once, watching how it ends. */
  #track(spec: ActivitySpec, then: () => void): void {
    const signal = this.#controller.signal;
    // An async function turns a synchronous throw into a rejection, handled below like any other.
    const run = (async () => spec.method.call(this.#agent, signal))().then(
      () => undefined,
      (error: unknown) => {
        if (!signal.aborted) this.#fail(spec, error);
      },
    );
    const tracked = run.finally(() => {
      this.#running.delete(tracked);
      then();
    });
    this.#running.set(tracked, spec.name);
  }

  #fail(spec: ActivitySpec, error: unknown): void {
    this.#halt();
    this.#events.failed(spec, error);
  }

  #halt(): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort();
    for (const timeout of this.#timers.values()) clearTimeout(timeout);
    this.#timers.clear();
    this.#changed();
  }

  #changed(): void {
    this.#events.changed(this.#loops, this.#timers.size);
  }
}
