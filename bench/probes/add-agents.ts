/**
 * Run as its own process (under tsx's loader, as `npm run bench` runs):
 * `add-agents.ts <space key> <N>` adds N agents at once to a fresh space of
 * that kind, and prints { ms, rssDeltaBytes } as JSON: the time until every
 * `add` resolved, and how much this process's RSS grew meanwhile. A fresh
 * process per run, so that no earlier run's memory hides in the delta.
 */
import { Echo } from "../agents/echo.js";
import { idMaker, spaceKind } from "../lib/spaces.js";

const [key = "", countArg = ""] = process.argv.slice(2);
const count = Number(countArg);
if (!Number.isInteger(count) || count < 1) throw new Error(`usage: add-agents.ts <space key> <N>; got N = "${countArg}"`);

const kind = spaceKind(key);
const { space, close } = kind.create();
const id = idMaker(kind);
const ids = Array.from({ length: count }, (_, i) => id(`agent-${i}`));
const rssBefore = process.memoryUsage.rss();
const start = process.hrtime.bigint();
await Promise.all(ids.map((id) => space.add(Echo, id)));
const ms = Number(process.hrtime.bigint() - start) / 1e6;
const rssDeltaBytes = process.memoryUsage.rss() - rssBefore;
await close();
process.stdout.write(`${JSON.stringify({ ms, rssDeltaBytes })}\n`);
