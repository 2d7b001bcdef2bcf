import { LocalSpace, MultiprocessSpace, type Space } from "../index.js";

/** The spaces the CLI can make, by the name `--space` takes. */
export const spaceKinds = ["multiprocess", "local"] as const;

export type SpaceKind = (typeof spaceKinds)[number];

export function isSpaceKind(name: string): name is SpaceKind {
  return (spaceKinds as readonly string[]).includes(name);
}

/** A new space of `kind`; `debug` opens the `inspect` and `eval` actions. */
export function createSpace(kind: SpaceKind, debug: boolean): Space {
  return kind === "local" ? new LocalSpace({ debug }) : new MultiprocessSpace({ debug });
}
