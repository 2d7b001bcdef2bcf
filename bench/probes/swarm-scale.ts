/**
 * Run as its own process: `swarm-scale.ts <threads> <agents> <tokens> <hops>`.
 * Adds the agents to a MultiprocessSpace spread over `threads` worker
 * threads ("auto": one per core), sends `tokens` tokens round the ring of all
 * of them, `hops` hops each, then broadcasts to all; prints the figures as JSON.
 */
import { MultiprocessSpace } from "agentspace";
import { Finish } from "../agents/finish.js";
import { RingNode } from "../agents/ring.js";

const [threadsArg = "auto", agentsArg = "1000", tokensArg = "16", hopsArg = "10000"] = process.argv.slice(2);
const threads = threadsArg === "auto" ? "auto" : Number(threadsArg);
const [agents, tokens, hops] = [agentsArg, tokensArg, hopsArg].map(Number) as [number, number, number];

/** Counts finished tokens, then the broadcast's answers (each agent's `hello`: 1). */
class TokensThenAnswers extends Finish {
  override handleActionValue(value: unknown): void {
    if (value === 1) this.finished();
  }
}

const space = new MultiprocessSpace({ threads });
const finish = await space.addForeground(TokensThenAnswers, "finish");
const rssBefore = process.memoryUsage.rss();
let start = performance.now();
for (let i = 0; i < agents; i += 1_000) {
  // A thousand at a time: every add is one control call to its thread.
  await Promise.all(
    Array.from({ length: Math.min(1_000, agents - i) }, (_, j) => {
      const n = i + j;
      return space.add(RingNode, `node-${n}`, { next: `node-${(n + 1) % agents}`, finish: "finish" }, { mailboxSize: 1_000_000 });
    }),
  );
}
const addMs = performance.now() - start;
const rssMb = (process.memoryUsage.rss() - rssBefore) / 1e6;

start = performance.now();
const ring = finish.wait(tokens);
for (let token = 0; token < tokens; token++) {
  const first = Math.floor((token * agents) / tokens);
  finish.send({ to: `node-${first}`, action: { name: "pass", args: { token, hops } } });
}
await ring;
const ringMs = performance.now() - start;

start = performance.now();
const answered = finish.wait(agents);
finish.send({ to: "*", action: { name: "hello" } });
await answered;
const broadcastMs = performance.now() - start;

await space.destroy();
process.stdout.write(`${JSON.stringify({ addMs, rssMb, ringMs, hopsPerS: (tokens * hops) / (ringMs / 1000), broadcastMs })}\n`);
