/** Setting up a space for a figure: its agents added once, outside the timed runs, and always destroyed. */
import { Agent } from "agentspace";
import type { Space } from "agentspace";
import type { Rig } from "./rig.js";
import { idMaker, type SpaceKind } from "./spaces.js";

export interface SpaceSetup {
  space: Space;
  /** A foreground agent in this thread that the timed runs send from. */
  me: Agent;
  /** The id to give the agent called `name` (unique where a space's ids are seen beyond this process). */
  id(name: string): string;
}

/** What a rig needs of a space kind: how to make one, and how to name its agents. */
export type SpaceMaker = Pick<SpaceKind, "create" | "sharedIds">;

/**
 * Creates a space of `kind` with a foreground agent, lets `populate` add the
 * other agents and return one timed run; destroys the space if that fails,
 * and when the rig closes.
 */
export async function spaceRig<T>(kind: SpaceMaker, populate: (setup: SpaceSetup) => Promise<() => Promise<T>>): Promise<Rig<T>> {
  const { space, close } = kind.create();
  try {
    const id = idMaker(kind);
    const me = await space.addForeground(Agent, id("me"));
    const once = await populate({ space, me, id });
    return { once, close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

/** A timed run that has not answered in this long has hung (a broken space, not a slow one). */
export const RUN_TIMEOUT_MS = 120_000;
