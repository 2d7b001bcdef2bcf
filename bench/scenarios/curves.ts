/**
 * How cost grows with work: against the number of agents in a space (a
 * thread each up to 128, then `threads: "auto"`), router throughput, request
 * round trips, and adding and removing one agent; against message size,
 * throughput. Each beside its raw baseline, measured in alternate runs.
 */
import { alternate } from "../lib/alternate.js";
import { OWN_THREADS_UP_TO, type CurvePoint } from "../lib/curve-point.js";
import { runProbe } from "../lib/probe.js";
import { withRig } from "../lib/rig.js";
import type { Context, Count, CurvePlace, FigureSpec } from "../lib/scenario.js";
import type { Scenario } from "../lib/scenario.js";
import { messagesFor, oursSized, rawSized } from "../lib/sized.js";
import { median } from "../lib/stats.js";
import { startReady } from "../lib/workers.js";
import { directPipeline } from "./ports.js";
import { workerToWorker } from "./round-trip.js";

const AGENT_COUNTS = [1, 10, 100, 1_000, 10_000, 100_000];
/** A quick run checks that every curve is drawn, not how it bends: one point with own threads, one shared. */
const QUICK_AGENT_COUNTS = [1, 1_000];
const SIZES = [64, 1_024, 16_384, 262_144, 1_048_576];
const QUICK_SIZES = [64, 16_384, 1_048_576];
/** Bare workers started and ended one at a time for the add/remove baseline. */
const BARE_WORKERS = 4;

const RAW = {
  router: "raw: worker → worker MessagePort, 1 per postMessage",
  request: "raw: worker → main → worker → main → worker",
  add: "raw: start one bare worker",
  remove: "raw: end one bare worker (terminate)",
  size: "raw: worker → worker MessagePort, 1 per postMessage",
};

interface RawPoint {
  throughput: Count;
  requestNs: number[];
  addMs: number[];
  removeMs: number[];
}

/** The raw figures at one size, measured right before the probe (same background load). */
async function rawPoint(messages: number, requests: number): Promise<RawPoint> {
  const throughput = await withRig(directPipeline(messages), (once) => once());
  const requestNs = await withRig(workerToWorker(requests), (once) => once());
  const addMs: number[] = [];
  const removeMs: number[] = [];
  for (let i = 0; i < BARE_WORKERS; i++) {
    let start = performance.now();
    const worker = await startReady("idle.mjs");
    addMs.push(performance.now() - start);
    start = performance.now();
    await worker.terminate();
    removeMs.push(performance.now() - start);
  }
  return { throughput, requestNs, addMs, removeMs };
}

function place(chart: string, series: string, x: number, xLabel = "agents"): { curve: CurvePlace } {
  return { curve: { chart, series, x, xLabel } };
}

function where(agents: number): string {
  return agents > OWN_THREADS_UP_TO ? `${agents.toLocaleString("en-US")} agents, threads "auto"` : `${agents.toLocaleString("en-US")} agents, a thread each`;
}

async function agentCurves(ctx: Context, counts: number[]): Promise<void> {
  const messages = ctx.size(50_000, 5_000);
  const requests = ctx.size(2_000, 200);
  for (const agents of counts) {
    const runs = await ctx.repeat(where(agents), async () => ({
      raw: await rawPoint(messages, requests),
      ours: await runProbe<CurvePoint>("curves", [String(agents), String(messages), String(requests)], where(agents)),
    }));
    const at = where(agents);
    const figure = (key: string, chart: string, label: string, unit: FigureSpec["unit"]) => ({
      raw: { key: `${key}-raw-${agents}`, label: `${at}: ${RAW[key as keyof typeof RAW]}`, unit, ...place(chart, RAW[key as keyof typeof RAW], agents) },
      ours: { key: `${key}-${agents}`, label: `${at}: ${label}`, unit, vs: `${key}-raw-${agents}`, ...place(chart, "ours", agents) },
    });
    const router = figure("router", "router throughput against agents", "agent → agent pipeline", "msg/s");
    ctx.recordThroughput(router.raw, runs.map((r) => r.raw.throughput));
    ctx.record(router.ours, runs.map((r) => r.ours.throughput));
    const request = figure("request", "request round trip (p50, p99 dashed) against agents", "agent → agent request", "µs");
    ctx.recordLatency(request.raw, runs.map((r) => r.raw.requestNs));
    ctx.recordLatency(request.ours, runs.map((r) => r.ours.requestNs));
    const add = figure("add", "adding one agent against agents already there", "add one more agent", "ms");
    ctx.record(add.raw, runs.map((r) => median(r.raw.addMs)));
    ctx.record(add.ours, runs.map((r) => median(r.ours.addMs)));
    ctx.record(
      { key: `fill-${agents}`, label: `${at}: adding all of them, per agent (1,000 at once)`, unit: "ms", ...place(add.ours.curve.chart, "ours, per agent of a burst", agents) },
      runs.map((r) => r.ours.fillMs / agents),
    );
    const remove = figure("remove", "removing one agent against agents there", "remove one agent", "ms");
    ctx.record(remove.raw, runs.map((r) => median(r.raw.removeMs)));
    ctx.record(remove.ours, runs.map((r) => median(r.ours.removeMs)));
  }
}

async function sizeCurve(ctx: Context): Promise<void> {
  const budget = ctx.size(64e6, 8e6);
  for (const bytes of ctx.quick ? QUICK_SIZES : SIZES) {
    const n = messagesFor(bytes, budget);
    const label = `${bytes.toLocaleString("en-US")} B payload, ${n.toLocaleString("en-US")} messages`;
    const { ours, raw } = await alternate(ctx, label, () => oursSized(n, bytes), () => rawSized(n, bytes));
    const chart = "throughput against message size";
    const rawKey = `size-raw-${bytes}`;
    ctx.recordThroughput({ key: rawKey, label: `${label}: ${RAW.size}`, unit: "msg/s", ...place(chart, RAW.size, bytes, "bytes") }, raw);
    ctx.recordThroughput({ key: `size-${bytes}`, label: `${label}: MultiprocessSpace agent → agent`, unit: "msg/s", vs: rawKey, ...place(chart, "ours", bytes, "bytes") }, ours);
  }
}

export const curves: Scenario = {
  name: "curves",
  group: "curves",
  description: "cost against the number of agents (1 to 100,000) and against message size (64 B to 1 MB), beside raw baselines",
  async run(ctx) {
    const max = ctx.maxAgents ?? Infinity;
    const counts = (ctx.quick ? QUICK_AGENT_COUNTS : AGENT_COUNTS).filter((count) => count <= max);
    // The target is for agents sharing threads: removing one with a thread of its own ends a thread.
    const largestShared = counts.filter((count) => count > OWN_THREADS_UP_TO).at(-1);
    if (largestShared !== undefined) {
      ctx.target({ figure: `remove-${largestShared}`, of: "median", atMost: 0.2,
        text: `removing one agent among ${largestShared.toLocaleString("en-US")} (threads: "auto") ≤ 0.2 ms` });
    }
    await agentCurves(ctx, counts);
    await sizeCurve(ctx);
    ctx.note(
      "agents: each point is a fresh node process holding that many idle agents (a worker thread each up to " +
        `${OWN_THREADS_UP_TO}, then threads: "auto") plus the four measured ones; add/remove: median of one agent ` +
        "added (then removed) at a time, several per run; raw baselines run in this process right before each probe",
    );
    ctx.note("message size: a string payload of that many characters in action.args; ours and raw in alternate runs");
  },
};
