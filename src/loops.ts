/**
 * An agent's own activity: `@loop` methods that run beside message handling,
 * `@timer(ms)` methods run every `ms`, and `sleep`, a wait a loop can cancel.
 * AgentActivity (activity.ts) starts and stops them.
 */

// Stored on the method itself under registered symbols, as @action is: an
// agent module bundled for a worker carries its own copy of this file, and
// the worker host must still find the marks.
const LOOP = Symbol.for("agentspace.loop");
const TIMER = Symbol.for("agentspace.timer");

type LoopMethod = (this: never, signal: AbortSignal) => Promise<unknown>;
type TimerMethod = (this: never, signal: AbortSignal) => unknown;

/** One loop or timer of an agent class. */
export interface ActivitySpec {
  name: string;
  kind: "loop" | "timer";
  /** A timer's wait between the end of one run and the start of the next. */
  everyMs: number;
  method: (signal: AbortSignal) => unknown;
}

/**
 * Marks `async method(signal)` as a control loop: started once `afterAdd()`
 * has settled, run beside message handling until the agent stops, when
 * `signal` aborts. Works as a standard (TC39) or legacy decorator.
 */
export function loop<M extends LoopMethod>(method: M, context: ClassMethodDecoratorContext): M;
export function loop(target: object, key: string | symbol, descriptor: PropertyDescriptor): void;
export function loop(first: unknown, _second: unknown, third?: unknown): unknown {
  if (typeof first === "function") {
    Object.defineProperty(first, LOOP, { value: true });
    return first;
  }
  const method = (third as PropertyDescriptor | undefined)?.value;
  if (typeof method !== "function") throw new TypeError("@loop applies to methods");
  Object.defineProperty(method, LOOP, { value: true });
  return undefined;
}

/**
 * Runs the method every `ms` milliseconds, counted from the end of its
 * previous run: never two runs at once, and no burst of late runs after a
 * long one. It gets the agent's signal, as a loop does.
 */
export function timer(ms: number): <M extends TimerMethod>(method: M, context: ClassMethodDecoratorContext) => M {
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`@timer takes a number of milliseconds from 0 up, not ${String(ms)}`);
  }
  return ((method: unknown, _context: unknown, descriptor?: PropertyDescriptor) => {
    const target = typeof method === "function" ? method : descriptor?.value;
    if (typeof target !== "function") throw new TypeError("@timer applies to methods");
    Object.defineProperty(target, TIMER, { value: ms });
    return typeof method === "function" ? method : undefined;
  }) as <M extends TimerMethod>(method: M, context: ClassMethodDecoratorContext) => M;
}

/**
 * Resolves after `ms` milliseconds, or rejects with the signal's reason as
 * soon as `signal` aborts: a loop's wait that ends with the agent.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timeout);
      reject(signal!.reason);
    };
    const timeout = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}

const specsByClass = new WeakMap<object, ActivitySpec[]>();

/** The loops and timers of an agent class (its own and inherited), computed once per class. */
export function activitiesOf(prototype: object): ActivitySpec[] {
  let specs = specsByClass.get(prototype);
  if (!specs) {
    specs = collect(prototype);
    specsByClass.set(prototype, specs);
  }
  return specs;
}

function collect(prototype: object): ActivitySpec[] {
  const specs = new Map<string, ActivitySpec>();
  // Walk from the base class down so that a subclass's override wins.
  const chain: object[] = [];
  for (let p: object | null = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) chain.unshift(p);
  for (const proto of chain) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === "constructor") continue;
      const method = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
      if (typeof method !== "function") continue;
      const marks = method as unknown as Record<symbol, unknown>;
      const everyMs = marks[TIMER];
      if (marks[LOOP] === true) specs.set(name, { name, kind: "loop", everyMs: 0, method: method as ActivitySpec["method"] });
      else if (typeof everyMs === "number") specs.set(name, { name, kind: "timer", everyMs, method: method as ActivitySpec["method"] });
      else specs.delete(name); // an undecorated override no longer runs on its own
    }
  }
  return [...specs.values()];
}
