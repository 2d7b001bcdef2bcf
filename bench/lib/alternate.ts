/**
 * A space's figure and the raw baseline it is read against, measured in
 * alternate runs (baseline, ours, baseline, ours, …) with both rigs set up at
 * once. On this shared machine the background load changes within a minute,
 * so a baseline measured in its own scenario minutes earlier can be off by 2×
 * either way; alternating gives both the same load.
 */
import { withRig, type Rig } from "./rig.js";
import type { Context } from "./scenario.js";

/** A baseline to measure alongside a figure: its own rig, with the same size. */
export interface RawBaseline<T> {
  label: string;
  rig(size: number): Promise<Rig<T>>;
}

export interface Alternated<T> {
  ours: T[];
  /** Empty without a raw baseline. */
  raw: T[];
}

/**
 * Repeats (raw once, ours once) as one figure's runs. The rigs are made one
 * after the other (raw first), and each closes whatever happens.
 */
export async function alternate<T>(
  ctx: Context,
  label: string,
  ours: () => Promise<Rig<T>>,
  raw?: () => Promise<Rig<T>>,
): Promise<Alternated<T>> {
  const measure = (oursOnce: () => Promise<T>, rawOnce?: () => Promise<T>) =>
    ctx.repeat(label, async () => ({ raw: rawOnce ? await rawOnce() : undefined, ours: await oursOnce() }));
  const pairs =
    raw === undefined
      ? await withRig(ours(), (oursOnce) => measure(oursOnce))
      : await withRig(raw(), (rawOnce) => withRig(ours(), (oursOnce) => measure(oursOnce, rawOnce)));
  return { ours: pairs.map((pair) => pair.ours), raw: raw === undefined ? [] : pairs.map((pair) => pair.raw!) };
}

/** A rig for a baseline that needs no set-up. */
export function bareRig<T>(once: () => Promise<T>): Rig<T> {
  return { once, close: async () => {} };
}
