/**
 * One broadcast reaching 32 agents, and a coordinator
 * gathering an answer from each of 32 agents with `request`, in every space.
 */
import { withRig, type Rig } from "../lib/rig.js";
import type { Scenario } from "../lib/scenario.js";
import { RUN_TIMEOUT_MS, spaceRig } from "../lib/space-rig.js";
import { spaceKinds, type SpaceKind } from "../lib/spaces.js";
import { Hub, Listener, type BroadcastSamples } from "../agents/fan-out.js";

const LISTENERS = 32;

/** A hub and 32 listeners; `once` runs k broadcasts, or k gathers, in the hub. */
function fanOut(kind: SpaceKind, k: number): Promise<Rig<{ broadcast: BroadcastSamples; gather: number[] }>> {
  return spaceRig(kind, async ({ space, me, id }) => {
    const listeners = Array.from({ length: LISTENERS }, (_, i) => id(`listener-${i}`));
    await Promise.all(listeners.map((listener) => space.add(Listener, listener)));
    const hub = id("hub");
    await space.add(Hub, hub);
    return async () => {
      const options = { timeoutMs: RUN_TIMEOUT_MS };
      const broadcast = await me.request<BroadcastSamples>(
        { to: hub, action: { name: "broadcasts", args: { k, listeners: LISTENERS } } }, options);
      const gather = await me.request<number[]>({ to: hub, action: { name: "gathers", args: { k, listeners } } }, options);
      return { broadcast, gather };
    };
  });
}

export const spaceFanOut: Scenario = {
  name: "fan-out",
  group: "spaces",
  description: `one broadcast reaching ${LISTENERS} agents, and a coordinator gathering ${LISTENERS} answers, in each space (µs)`,
  async run(ctx) {
    for (const kind of await spaceKinds(ctx)) {
      const k = kind.slow ? ctx.size(100, 10) : ctx.size(300, 50);
      const runs = await withRig(fanOut(kind, k), (once) => ctx.repeat(`${kind.name} fan-out`, once));
      const figures = [
        { key: "broadcast-reach", label: `broadcast: until all ${LISTENERS} have it`, samples: runs.map((r) => r.broadcast.reach) },
        { key: "broadcast-answered", label: `broadcast: until all ${LISTENERS} answers are back`, samples: runs.map((r) => r.broadcast.answered) },
        { key: "gather", label: `gather: ${LISTENERS} requests at once, until all answered`, samples: runs.map((r) => r.gather) },
      ];
      for (const { key, label, samples } of figures) {
        ctx.recordLatency({ key: `${kind.key}-${key}`, label: `${kind.name}: ${label}`, unit: "µs" }, samples);
      }
    }
    ctx.note(
      `sequential: each broadcast or gather starts once the previous one is answered; timed in the hub's thread ` +
        `(a worker for MultiprocessSpace); "have it" is when each listener's action ran, on the same clock`,
    );
  },
};
