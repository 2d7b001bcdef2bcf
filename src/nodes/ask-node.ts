import type { Space } from "../space.js";
import { controlIdOf } from "./description.js";
import type { Spot } from "./directory.js";

/** What a node answers once it runs an agent it was asked to launch. */
export interface Launched {
  node: string;
}

/**
 * Asks the node at `spot` to start agent `id`, whose placement and spec
 * already wait in Redis. The request goes into the node's control mailbox, a
 * Redis stream like any agent's: sent once, it is not lost.
 */
export async function askToLaunch(space: Space, spot: Spot, id: string, timeoutMs: number): Promise<Launched> {
  return controlOf(space, spot.name, timeoutMs).launch({ id, token: spot.token });
}

/** Asks the node at `spot` to remove agent `id` for good (its mailbox ends; what waits in it is answered AgentNotFoundError). */
export async function askToRemove(space: Space, spot: Spot, id: string, timeoutMs: number): Promise<void> {
  await controlOf(space, spot.name, timeoutMs).remove({ id, token: spot.token });
}

/** The actions of a node's control agent (node-control.ts), as a typed handle. */
interface ControlActions {
  launch(args: { id: string; token: string }): Promise<Launched>;
  remove(args: { id: string; token: string }): Promise<void>;
}

function controlOf(space: Space, node: string, timeoutMs: number): ControlActions {
  return space.handle(controlIdOf(node), { timeoutMs }) as unknown as ControlActions;
}
