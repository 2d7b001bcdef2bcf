import { createRequire } from "node:module";

/**
 * Node's own modules that only some of the work needs, loaded on first use.
 * Every thread that hosts agents loads the floor as it starts, and a builtin
 * that a module imports is paid for then, used or not: node:v8 (envelopes),
 * node:fs and node:url (stack maps) cost a new worker thread about 3 ms
 * together, a tenth of a bare worker's start-up.
 */
const load = createRequire(import.meta.url);

/** `name` (a builtin) when first called for, then the same module. */
export function lazily<T>(name: string): () => T {
  let module: T | undefined;
  return () => (module ??= load(name) as T);
}
