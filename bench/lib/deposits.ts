/** The account benchmarks' two loads: deposits with a window in flight, and sequential deposit requests. */
import type { Agent } from "agentspace";
import { now, nsSince } from "./clock.js";
import type { Count } from "./scenario.js";

export const WINDOW = 256;

/** `n` deposits from `me` to `to`, WINDOW at a time in flight. */
export async function deposits(me: Agent, to: string, n: number): Promise<Count> {
  const start = now();
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      await me.request({ to, action: { name: "deposit", args: { n: 1 } } });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  return { count: n, ns: nsSince(start) };
}

/** `k` deposit requests one after another: each one's time, in ns. */
export async function sequential(me: Agent, to: string, k: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < k; i++) {
    const start = now();
    await me.request({ to, action: { name: "deposit", args: { n: 1 } } });
    samples.push(nsSince(start));
  }
  return samples;
}
