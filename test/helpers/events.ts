import type { EventEmitter } from "eventemitter3";

const WAIT_MS = 10_000;

/** Resolves with the arguments of the next `event`; rejects after `timeoutMs`. */
export function nextEvent<T extends unknown[]>(emitter: EventEmitter, event: string, timeoutMs = WAIT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    emitter.once(event, listener);
  });
}
