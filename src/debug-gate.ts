import { PermissionDeniedError, withoutStack } from "./errors.js";
import type { Message } from "./message.js";

/**
 * Who may call the debug actions (`inspect`, `eval`), which run code inside
 * an agent. `false`: nobody. `true`: foreground agents and handles of the
 * same process only (a REPL, a test). `"remote"`: also every other agent, and
 * on a broker every peer that can publish to the exchange.
 */
export type DebugMode = boolean | "remote";

/** The built-in actions that look inside an agent, opened only by `debug`. */
export const DEBUG_ACTIONS: ReadonlySet<string> = new Set(["inspect", "eval"]);

export function namesDebugAction(message: Message): boolean {
  return DEBUG_ACTIONS.has(message.action.name);
}

/** Whether `message` may reach its action as far as the debug gate goes (see `debugRefusal`, which says why not). */
export function mayCall(message: Message, trusted: boolean, mode: DebugMode): boolean {
  return trusted || mode === "remote" || !namesDebugAction(message);
}

/**
 * Why `message` may not reach its debug action, or undefined when it may (or
 * names none). Checked where a message enters the router, the one place that
 * knows the sender: `trusted` is true only for a foreground agent or handle
 * of this process. An agent's own check (`debug` off) comes on top.
 */
export function debugRefusal(message: Message, trusted: boolean, mode: DebugMode): PermissionDeniedError | undefined {
  if (mayCall(message, trusted, mode)) return undefined;
  return withoutStack(
    () =>
      new PermissionDeniedError(
        `"${message.action.name}" on "${message.to}" answers only foreground agents and handles of the same process ` +
          `(a space made with debug: "remote" opens it to every agent and broker peer)`,
      ),
  );
}
