/**
 * Run as its own process: `curves.ts <agents> <messages> <requests>`.
 * Fills a MultiprocessSpace with `agents` idle agents (a thread each up to
 * 128, then `threads: "auto"`), then measures among them: adding and
 * removing one more agent, router throughput (one agent pipelining to
 * another) and sequential request round trips. Prints the figures as JSON.
 */
import { Agent, MultiprocessSpace } from "agentspace";
import { Echo, Pinger } from "../agents/echo.js";
import { Sender, Sink } from "../agents/pipeline.js";
import { OWN_THREADS_UP_TO, type CurvePoint } from "../lib/curve-point.js";

const [agents, messages, requests] = process.argv.slice(2).map(Number) as [number, number, number];

/** Agents added and removed one at a time, timed each, at every size. */
const CHURNED = agents > OWN_THREADS_UP_TO ? 50 : 8;
/** Adds in flight at once while filling: every add is a control call to its thread. */
const FILL_BATCH = 1_000;

const space = new MultiprocessSpace(agents > OWN_THREADS_UP_TO ? { threads: "auto" } : {});
const me = await space.addForeground(Agent, "me");

let start = performance.now();
for (let i = 0; i < agents; i += FILL_BATCH) {
  const batch = Math.min(FILL_BATCH, agents - i);
  await Promise.all(Array.from({ length: batch }, (_, j) => space.add(Echo, `idle-${i + j}`)));
}
const fillMs = performance.now() - start;

await space.add(Sink, "sink", undefined, { mailboxSize: messages + 16 });
await space.add(Sender, "sender");
await space.add(Echo, "echo");
await space.add(Pinger, "pinger");

const addMs: number[] = [];
const removeMs: number[] = [];
for (let i = 0; i < CHURNED; i++) {
  start = performance.now();
  await space.add(Echo, `churn-${i}`);
  addMs.push(performance.now() - start);
}
for (let i = 0; i < CHURNED; i++) {
  start = performance.now();
  await space.remove(`churn-${i}`);
  removeMs.push(performance.now() - start);
}

// One warm-up of each, then the timed one.
const blast = () => me.request<number>({ to: "sender", action: { name: "blast", args: { to: "sink", n: messages } } }, { timeoutMs: 120_000 });
await blast();
start = performance.now();
await blast();
const throughput = messages / ((performance.now() - start) / 1000);

const pings = () => me.request<number[]>({ to: "pinger", action: { name: "pings", args: { to: "echo", k: requests } } }, { timeoutMs: 120_000 });
await pings();
const samples = await pings();

await space.destroy();
const point: CurvePoint = { agents, fillMs, addMs, removeMs, throughput, requestNs: samples };
process.stdout.write(`${JSON.stringify(point)}\n`);
