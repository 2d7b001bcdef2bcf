import type { Message } from "../message.js";

/**
 * The agent's side of a live reload, keyed by a registered symbol (a bundled
 * agent module carries its own copy of Agent): it stops taking messages and
 * hands back the ones not yet taken, and says when the actions it has
 * already started have settled.
 */
export const HAND_OVER = Symbol.for("agentspace.handOver");

export interface HandOver {
  /** Delivered to it and not yet taken, in order: the next instance takes them first. */
  queued: Message[];
  /** Settles once every action it started (and its answer) is done. */
  settled: Promise<void>;
}

/** An agent instance that can hand over to its next version. */
export interface HandingOver {
  [HAND_OVER](): HandOver;
}

export function canHandOver(agent: object): agent is HandingOver {
  return typeof (agent as Partial<HandingOver>)[HAND_OVER] === "function";
}
