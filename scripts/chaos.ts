/**
 * The chaos run (see test/chaos/harness.ts): nodes, a manager, load and
 * faults on a Redis of its own, then one line of figures.
 *
 *   npm run chaos -- [--minutes 10] [--seed 42]
 *
 * The seed is printed: the same seed draws the same faults (their timing
 * follows the machine). Exit code 1 when a check failed.
 */
import { parseArgs } from "node:util";
import { runChaos } from "../test/chaos/harness.js";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "1" }, seed: { type: "string" } } });
const minutes = Number(values.minutes);
if (!(Number.isFinite(minutes) && minutes > 0)) {
  console.error(`--minutes takes a number of minutes above 0, not "${values.minutes}"`);
  process.exit(2);
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const report = await runChaos({ seconds: Math.round(minutes * 60), seed, log: (line) => console.log(line) });
for (const violation of report.violations) console.log(`violation: ${violation}`);
process.exit(report.violations.length === 0 ? 0 : 1);
