import type { AgentCrashedError, LoopFailedError } from "./errors.js";

/**
 * What happens to agents, for code to decide on (the inspector, a manager,
 * a test): `space.on("lifecycle", …)`. The `error` event carries the same
 * failures with words for people; this stream is the one to branch on.
 */
export type LifecycleEvent =
  /** An instance died with its thread (an uncaught error, an exit, out of memory), or a fresh one failed to start. */
  | { type: "crashed"; id: string; error: AgentCrashedError }
  /** A `@loop` or `@timer` threw (not an abort): the instance failed, its thread runs on. */
  | { type: "loop-failed"; id: string; loop: string; error: LoopFailedError }
  /** After a failure, as its restart policy allows: a fresh instance starts in `inMs`; messages wait for it. */
  | { type: "restarting"; id: string; inMs: number }
  /** The fresh instance runs. */
  | { type: "restarted"; id: string }
  /** Loops that ignored their signal for `timeoutMs`: their thread was ended, or (the space's own thread) they go on. */
  | { type: "stuck"; id: string; loops: string[]; timeoutMs: number; threadEnded: boolean }
  /** The instance runs its class's new code (`space.reload`). */
  | { type: "reloaded"; id: string }
  /** The agent left the space: `remove` or `destroy`, its own `shutdown()`, or a failure its policy allows no restart after. */
  | { type: "removed"; id: string; cause: "removed" | "shutdown" | "failed" | "passivated" };

/**
 * What the space does after a failure: a restart in `ms`, the agent's
 * removal, nothing (it was being removed), or (`stuck`, in the space's own
 * thread) going on with the removal while the stuck loop runs.
 */
export type Aftermath = { restartInMs: number } | "remove" | "none" | "stuck";

/** The words an `error` event gives after a failure, saying what the space does about it. */
export function aftermathText(aftermath: Aftermath): string {
  if (aftermath === "remove") return "removing it from the space (its restart policy allows no restart)";
  if (aftermath === "none") return "it was being removed";
  if (aftermath === "stuck") return "beforeRemove runs while it goes on (a loop in the space's own thread cannot be ended)";
  return `restarting it in ${aftermath.restartInMs} ms`;
}
