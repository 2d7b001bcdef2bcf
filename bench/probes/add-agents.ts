/**
 * Run as its own process (under tsx's loader, as `npm run bench` runs):
 * `add-agents.ts <space key> <N> [prewarm]` adds N agents at once to a fresh space of
 * that kind, and prints { ms, rssDeltaBytes } as JSON: the time until every
 * `add` resolved, and how much this process's RSS grew meanwhile. A fresh
 * process per run, so that no earlier run's memory hides in the delta.
 */
import { Echo } from "../agents/echo.js";
import { idMaker, spaceKind } from "../lib/spaces.js";

const [key = "", countArg = "", mode = ""] = process.argv.slice(2);
const count = Number(countArg);
if (!Number.isInteger(count) || count < 1) throw new Error(`usage: add-agents.ts <space key> <N>; got N = "${countArg}"`);

const kind = spaceKind(key);
const { space, close } = kind.create();
const id = idMaker(kind);
const ids = Array.from({ length: count }, (_, i) => id(`agent-${i}`));
// With "prewarm": N threads started first (MultiprocessSpace.prewarm), timed apart, and in the RSS.
let prewarmMs: number | undefined;
const rssBefore = process.memoryUsage.rss();
if (mode === "prewarm") {
  const warming = process.hrtime.bigint();
  await (space as unknown as { prewarm(count: number): Promise<void> }).prewarm(count);
  prewarmMs = Number(process.hrtime.bigint() - warming) / 1e6;
}
const start = process.hrtime.bigint();
await Promise.all(ids.map((id) => space.add(Echo, id)));
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const rssDeltaBytes = process.memoryUsage.rss() - rssBefore;
await close();
process.stdout.write(`${JSON.stringify({ ms, rssDeltaBytes, ...(prewarmMs === undefined ? {} : { prewarmMs }) })}\n`);
