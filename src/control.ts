import type { MessagePort, Worker } from "node:worker_threads";
import { errorFromWire, errorToWire, type WireError } from "./errors.js";

/**
 * Calls into a worker host over the worker's own channel, apart from the
 * agent's data ports. Unlike a plain RPC proxy, every call still waiting
 * when the worker dies is rejected: nothing hangs on a dead thread. Calls
 * made in one turn cross as one batch, and so do the replies ready in one
 * turn: adding a thousand agents at once costs a few `postMessage`s, not two thousand.
 */

type Call = { seq: number; method: string; args: unknown[] };
type Reply = { seq: number; ok: true; value: unknown } | { seq: number; ok: false; error: WireError };
/** Something the host reports on its own, not as a reply. */
export type HostEvent =
  /** A callback of an agent failed with nobody to answer. */
  | { event: "error"; error: WireError }
  /** The host dropped something forged that `from`'s thread sent (an envelope whose contents are not what it says). */
  | { event: "dropped"; from: string; why: string };

type Method = (...args: never[]) => unknown;
type Methods = Record<string, Method>;

export type Remote<T> = {
  [K in keyof T]: T[K] extends Method ? (...args: Parameters<T[K]>) => Promise<Awaited<ReturnType<T[K]>>> : never;
};

export class ControlClient<T> {
  #worker: Worker;
  #seq = 0;
  #waiting = new Map<number, { resolve(value: unknown): void; reject(error: unknown): void }>();
  #dead: Error | undefined;
  /** Calls made this turn, sent together at its end. */
  #outgoing: Call[] = [];

  /** `onEvent` gets what the host reports; `onJunk` whatever else arrives (agent code can reach the channel too). */
  constructor(worker: Worker, onEvent: (event: HostEvent) => void, onJunk: (why: string) => void) {
    this.#worker = worker;
    worker.on("message", (data: unknown) => {
      if (Array.isArray(data)) {
        for (const reply of data as unknown[]) {
          if (isReply(reply)) this.#settle(reply);
          else onJunk("something that is not a control reply came in a batch of replies over its control channel");
        }
      } else if (isHostEvent(data)) onEvent(data);
      else onJunk("something that is neither a batch of control replies nor an event came over its control channel");
    });
  }

  readonly remote = new Proxy({} as Remote<T>, {
    get: (_target, method) => (typeof method === "string" ? (...args: unknown[]) => this.#call(method, args) : undefined),
  });

  /** The worker is gone: reject what waits, and every later call. */
  fail(error: Error): void {
    this.#dead = error;
    for (const { reject } of this.#waiting.values()) reject(error);
    this.#waiting.clear();
  }

  #call(method: string, args: unknown[]): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead);
    const seq = ++this.#seq;
    return new Promise((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      this.#outgoing.push({ seq, method, args });
      if (this.#outgoing.length === 1) queueMicrotask(this.#flush);
    });
  }

  #flush = (): void => {
    const calls = this.#outgoing;
    this.#outgoing = [];
    if (this.#dead) return; // fail() has rejected them
    try {
      this.#worker.postMessage(calls);
    } catch {
      // One call that cannot be cloned must not fail the others: each goes alone, and that one is rejected.
      for (const call of calls) {
        try {
          this.#worker.postMessage([call]);
        } catch (error) {
          this.#waiting.get(call.seq)?.reject(error);
          this.#waiting.delete(call.seq);
        }
      }
    }
  };

  #settle(reply: Reply): void {
    const waiting = this.#waiting.get(reply.seq);
    if (!waiting) return;
    this.#waiting.delete(reply.seq);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(errorFromWire({ ...reply.error }));
  }
}

function isHostEvent(data: unknown): data is HostEvent {
  if (typeof data !== "object" || data === null) return false;
  const { event } = data as Record<string, unknown>;
  if (event === "error") return isWireError((data as { error?: unknown }).error);
  const { from, why } = data as Record<string, unknown>;
  return event === "dropped" && typeof from === "string" && typeof why === "string";
}

function isReply(data: unknown): data is Reply {
  if (typeof data !== "object" || data === null) return false;
  const { seq, ok, error } = data as Record<string, unknown>;
  return typeof seq === "number" && (ok === true || (ok === false && isWireError(error)));
}

function isWireError(value: unknown): value is WireError {
  if (typeof value !== "object" || value === null) return false;
  const { error, stack } = value as Record<string, unknown>;
  return typeof error === "string" && (stack === undefined || typeof stack === "string");
}

/** Answers the main thread's calls with `methods`; returns how to report an event. */
export function serveControl(port: MessagePort, methods: object): (event: HostEvent) => void {
  let replies: Reply[] = [];
  const flush = () => {
    const batch = replies;
    replies = [];
    try {
      port.postMessage(batch);
    } catch {
      // A value that cannot be cloned fails its own call only.
      for (const reply of batch) {
        try {
          port.postMessage([reply]);
        } catch (error) {
          port.postMessage([{ seq: reply.seq, ok: false, error: errorToWire(error) } satisfies Reply]);
        }
      }
    }
  };
  const answer = async ({ seq, method, args }: Call) => {
    let reply: Reply;
    try {
      const fn = Object.hasOwn(methods, method) ? (methods as Methods)[method] : undefined;
      if (typeof fn !== "function") throw new Error(`no control method "${method}"`);
      reply = { seq, ok: true, value: await fn(...(args as never[])) };
    } catch (error) {
      reply = { seq, ok: false, error: errorToWire(error) };
    }
    replies.push(reply);
    if (replies.length === 1) queueMicrotask(flush);
  };
  port.on("message", (calls: Call[]) => {
    for (const call of calls) void answer(call);
  });
  return (event) => port.postMessage(event);
}
