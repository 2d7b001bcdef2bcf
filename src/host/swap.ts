import { DETACH, SETTLED, type LinkedAgent } from "../agent-link.js";
import { ReloadError } from "../errors.js";
import { carryDefinedActions } from "./defined-actions.js";

/** How long a swap waits for the actions the old instance has started (one that never ends must not hang the reload). */
export const SETTLE_MS = 10_000;

/** What the host of an agent does for a swap. */
export interface SwapHost {
  /** From now on queued messages wait; arrivals still reach `old` (answers settle what its actions await). */
  pause(): void;
  /** Messages go to `agent` again, in the order they came. */
  resume(agent: LinkedAgent): void;
  /** Stops the old instance's loops and timers; resolves once they have settled. */
  stopActivity(): Promise<void>;
  /** Starts the loops and timers of `agent` (the new instance, or the old one again). */
  startActivity(agent: LinkedAgent): void;
  /** Gives `fresh` the old instance's link to the space. */
  attach(fresh: LinkedAgent): void;
}

/**
 * Replaces `old` with the instance `construct` makes, keeping what the space
 * sees (id, mailbox, requests under way): queued messages wait, the actions
 * `old` has started finish on its code, and its state moves over
 * (`snapshot()`/`restore(state)`, or its own fields). If the new constructor
 * or `restore` throws, `old` serves on and this rejects with a ReloadError
 * that says why.
 */
export async function swapInstance(
  old: LinkedAgent,
  construct: () => LinkedAgent,
  host: SwapHost,
  settleMs = SETTLE_MS,
): Promise<LinkedAgent> {
  host.pause();
  await host.stopActivity();
  const keepOld = (): void => {
    host.resume(old);
    host.startActivity(old);
  };
  if (!(await within(old[SETTLED](), settleMs))) {
    keepOld();
    throw new ReloadError(`agent "${old.id}" keeps its old version: an action it started had not settled after ${settleMs} ms`);
  }
  let fresh: LinkedAgent;
  try {
    fresh = construct();
    await carryState(old, fresh);
    carryDefinedActions(old, fresh);
  } catch (error) {
    keepOld();
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ReloadError(`agent "${old.id}" keeps its old version: the new one failed to start (${why})`, { cause: error });
  }
  host.attach(fresh);
  // Only answers to what the old instance itself still awaits are lost with it (its actions have all settled).
  old[DETACH](new ReloadError(`agent "${old.id}" was replaced by a new version of its class`));
  host.resume(fresh);
  host.startActivity(fresh);
  return fresh;
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Stateful {
  snapshot?: () => unknown;
  restore?: (state: unknown) => unknown;
}

/**
 * The old instance's state, given to the new one: through `restore(snapshot())`
 * when both versions define them, else as the old instance's own fields
 * (the new constructor's values for fields the old one did not have stay).
 */
async function carryState(old: LinkedAgent, fresh: LinkedAgent): Promise<void> {
  const from = old as unknown as Stateful;
  const to = fresh as unknown as Stateful;
  if (typeof from.snapshot === "function" && typeof to.restore === "function") {
    await to.restore(await from.snapshot());
    return;
  }
  for (const [key, value] of Object.entries(old)) {
    if (key !== "id") (fresh as unknown as Record<string, unknown>)[key] = value;
  }
}
