import type { Agent } from "./agent.js";
import type { HelpEntry } from "./action.js";

type AnyMethod = (...args: never) => unknown;

/** The names of `T`'s methods that are not the Agent base class's own: its actions. */
export type ActionNames<T> = {
  [K in keyof T]: K extends keyof Agent ? never : T[K] extends AnyMethod ? K : never;
}[keyof T];

/**
 * A typed proxy to an agent: each action becomes a method that sends a
 * request and resolves with the action's (awaited) return type.
 *
 * ```ts
 * const calc = space.handle<Calculator>("calc");
 * const sum: number = await calc.add({ a: 1, b: 2 });
 * ```
 */
export type Handle<T> = {
  [K in ActionNames<T>]: T[K] extends AnyMethod
    ? (...args: Parameters<T[K]>) => Promise<Awaited<ReturnType<T[K]>>>
    : never;
} & {
  /** The built-in `help` action. */
  help(args?: { action_name?: string }): Promise<Record<string, HelpEntry>>;
  /** The built-in `inspect` action (spaces with `debug: true`): a copy of the agent's own fields. */
  inspect(): Promise<Record<string, unknown>>;
  /** The built-in `eval` action (spaces with `debug: true`): runs code with `this` bound to the agent. */
  eval(args: { code: string }): Promise<unknown>;
};

/** Sends action `name` with `args` to the handle's agent. */
export type HandleCall = (name: string, args: Record<string, unknown>) => Promise<unknown>;

export function createHandle<T>(call: HandleCall): Handle<T> {
  return new Proxy({} as Handle<T>, {
    get(_target, name) {
      // Not a thenable (so `await handle` is the handle), and no symbol is an action.
      if (typeof name !== "string" || name === "then") return undefined;
      return (args?: Record<string, unknown>) => call(name, args ?? {});
    },
  });
}
