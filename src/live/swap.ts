import { DETACH, type LinkedAgent } from "../agent-link.js";
import { AgentspaceError } from "../errors.js";
import { isAnswer, type Message } from "../message.js";
import { carryDefinedActions } from "./defined-actions.js";
import { canHandOver, HAND_OVER } from "./hand-over.js";

/** A reload that could not swap an agent: its old version still serves. */
export class ReloadError extends AgentspaceError {}

/** How long a swap waits for the actions the old instance has started (one that never ends must not hang the reload). */
export const SETTLE_MS = 10_000;

/** What the host of an agent (the space's thread, or a worker) does for a swap. */
export interface SwapHost {
  /** From now on messages other than answers wait; answers still reach `old` (its actions may await them). */
  hold(old: LinkedAgent): void;
  /** Messages go to `agent` again: `queued` first, then those that waited, then new ones. */
  resume(agent: LinkedAgent, queued: Message[]): void;
  /** Stops the old instance's loops and timers; resolves once they have settled. */
  stopActivity(): Promise<void>;
  /** Starts the loops and timers of `agent` (the new instance, or the old one again). */
  startActivity(agent: LinkedAgent): void;
  /** Gives `fresh` the old instance's link to the space. */
  attach(fresh: LinkedAgent): void;
}

/**
 * Replaces `old` with the instance `construct` makes, keeping what the space
 * sees (id, route, mailbox): new messages wait, the actions `old` has
 * started finish on its code, the messages it had not taken go to the new
 * one first, and its state moves over (`snapshot()`/`restore(state)`, or its
 * own fields). If the new constructor or `restore` throws, `old` serves on
 * and this rejects with a ReloadError that says why.
 */
export async function swapInstance(
  old: LinkedAgent,
  construct: () => LinkedAgent,
  host: SwapHost,
  settleMs = SETTLE_MS,
): Promise<LinkedAgent> {
  host.hold(old);
  await host.stopActivity();
  const { queued, settled } = canHandOver(old) ? old[HAND_OVER]() : { queued: [], settled: Promise.resolve() };
  if (!(await within(settled, settleMs))) {
    host.resume(old, queued);
    host.startActivity(old);
    throw new ReloadError(`agent "${old.id}" keeps its old version: an action it started had not settled after ${settleMs} ms`);
  }
  let fresh: LinkedAgent;
  try {
    fresh = construct();
    await carryState(old, fresh);
    carryDefinedActions(old, fresh);
  } catch (error) {
    host.resume(old, queued);
    host.startActivity(old);
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ReloadError(`agent "${old.id}" keeps its old version: the new one failed to start (${why})`, { cause: error });
  }
  host.attach(fresh);
  // Only answers to what the old instance itself still awaits are lost with it (its actions have all settled).
  old[DETACH](new ReloadError(`agent "${old.id}" was replaced by a new version of its class`));
  host.resume(fresh, queued);
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

/** Delivers `queued` then `waiting` to `agent` through `deliver`, answers excepted from neither. */
export function deliverInOrder(queued: Message[], waiting: Message[], deliver: (message: Message) => void): void {
  for (const message of queued) deliver(message);
  for (const message of waiting) deliver(message);
}

/** Splits arriving messages while a swap holds them: answers go on to the old instance, the rest wait. */
export function holding(waiting: Message[], deliverToOld: (message: Message) => void): (message: Message) => void {
  return (message) => (isAnswer(message) ? deliverToOld(message) : waiting.push(message));
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
