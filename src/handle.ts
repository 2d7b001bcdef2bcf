import type { HelpEntry } from "./action.js";

type AnyMethod = (...args: never) => unknown;

/**
 * The names of `T`'s methods that are not `Base`'s own: its actions. `Base`
 * is the Agent class (see `Handle` in agent.ts), given rather than imported:
 * the agent module imports this one.
 */
export type ActionNames<T, Base> = {
  [K in keyof T]: K extends keyof Base ? never : T[K] extends AnyMethod ? K : never;
}[keyof T];

/** A handle to an agent of class `T` whose base class is `Base`: `Handle<T>` (agent.ts) is this with Base = Agent. */
export type HandleOf<T, Base> = {
  [K in ActionNames<T, Base>]: T[K] extends AnyMethod
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

export function createHandle<H extends object>(call: HandleCall): H {
  return new Proxy({} as H, {
    get(_target, name) {
      // Not a thenable (so `await handle` is the handle), and no symbol is an action.
      if (typeof name !== "string" || name === "then") return undefined;
      return (args?: Record<string, unknown>) => call(name, args ?? {});
    },
  });
}
