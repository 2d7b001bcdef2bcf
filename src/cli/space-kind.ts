import { LocalSpace, MultiprocessSpace, type Space } from "../index.js";

/** The spaces the CLI can make, by the name `--space` takes. */
export const spaceKinds = ["multiprocess", "local"] as const;

export type SpaceKind = (typeof spaceKinds)[number];

export function isSpaceKind(name: string): name is SpaceKind {
  return (spaceKinds as readonly string[]).includes(name);
}

/** Worker threads a multiprocess space shares among its agents (`--threads`); undefined: one per agent. */
export type Threads = number | "auto" | undefined;

/** `--threads`'s value: a whole number from 1, or "auto" (one per core). */
export function parseThreads(text: string): number | "auto" {
  if (text === "auto") return "auto";
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`--threads takes a whole number from 1, or auto, not "${text}"`);
  return n;
}

/** A new space of `kind`; `debug` opens the `inspect` and `eval` actions; `threads` (multiprocess) shares threads among agents. */
export function createSpace(kind: SpaceKind, debug: boolean, threads?: Threads): Space {
  if (kind === "local") return new LocalSpace({ debug });
  return new MultiprocessSpace(threads === undefined ? { debug } : { debug, threads });
}
