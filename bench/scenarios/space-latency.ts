/**
 * Sequential request round trips, agent → agent and
 * foreground (this thread) → agent, in every space; p50 and p99 in µs, as
 * ratios to the raw round trips each kind of request cannot beat.
 */
import { now, nsSince } from "../lib/clock.js";
import { latencyAgainst } from "../lib/baselined.js";
import type { Rig } from "../lib/rig.js";
import type { Scenario } from "../lib/scenario.js";
import { RUN_TIMEOUT_MS, spaceRig } from "../lib/space-rig.js";
import { spaceKinds, type Baseline, type SpaceKind } from "../lib/spaces.js";
import { Echo, Pinger } from "../agents/echo.js";

type From = "agent" | "foreground" | "handle";

function requests(kind: SpaceKind, from: From, k: number): Promise<Rig<number[]>> {
  return spaceRig(kind, async ({ space, me, id }) => {
    const echoId = id("echo");
    await space.add(Echo, echoId);
    if (from === "agent") {
      const pinger = id("pinger");
      await space.add(Pinger, pinger);
      // Timed in the pinger's own thread: exactly what an agent waits.
      return () =>
        me.request<number[]>({ to: pinger, action: { name: "pings", args: { to: echoId, k } } }, { timeoutMs: RUN_TIMEOUT_MS });
    }
    const echo = space.handle<Echo>(echoId);
    const call =
      from === "foreground"
        ? (n: number) => me.request({ to: echoId, action: { name: "echo", args: { n } } })
        : (n: number) => echo.echo({ n });
    return async () => {
      const samples: number[] = [];
      for (let i = 0; i < k; i++) {
        const start = now();
        await call(i);
        samples.push(nsSince(start));
      }
      return samples;
    };
  });
}

/** What each kind of request is read against. */
function baselineFor(kind: SpaceKind, from: From): Baseline<number[]> | undefined {
  if (from === "agent") return kind.baselines.agentRequest;
  const foreground = kind.baselines.foregroundRequest;
  // A handle call is a foreground request too: read it against the raw round trip measured with that one.
  if (from === "handle" && typeof foreground === "object") return `${kind.key}-foreground-raw`;
  return foreground;
}

const LABELS: Record<From, string> = {
  agent: "agent → agent request",
  foreground: "foreground → agent request",
  handle: "handle call (space.handle)",
};

export const spaceLatency: Scenario = {
  name: "latency",
  group: "spaces",
  description: "sequential request round trips, agent → agent and foreground → agent, in each space (µs)",
  async run(ctx) {
    // Declared first, so that a run that fails part-way still prints each verdict (or "not measured").
    ctx.target({ figure: "multiprocess-foreground", of: "ratio", atMost: 2,
      text: "MultiprocessSpace request p50 (foreground → worker) ≤ 2× raw main↔worker round trip" });
    ctx.target({ figure: "redis-foreground", of: "ratio", atMost: 2,
      text: "RedisSpace request p50 (foreground → worker) ≤ 2× the raw node-redis round trip over two streams" });
    for (const kind of await spaceKinds(ctx)) {
      const k = kind.slow ? ctx.size(500, 30) : ctx.size(5_000, 300);
      for (const from of ["agent", "foreground", "handle"] as const) {
        const where = kind.inWorkers ? (from === "agent" ? " (both in workers)" : " (main → worker)") : "";
        const spec = { key: `${kind.key}-${from}`, label: `${kind.name}: ${LABELS[from]}${where}`, unit: "µs" } as const;
        await latencyAgainst(ctx, spec, k, () => requests(kind, from, k), baselineFor(kind, from));
      }
    }
    ctx.note(
      "p50 per run, median over runs; p99 is the median of each run's p99; raw: the baseline measured in alternate " +
        "runs with the figure below it, so that both see the same background load (its name in the baseline scenarios in brackets)",
    );
  },
};
