/**
 * Requests through RabbitMQ restarts: a Calculator in another process,
 * requesters here asking it to add 1 to its total in a loop, while the
 * broker is stopped (`rabbitmqctl stop_app`) and started again, again and again.
 * Prints what became of every request, and whether the total counts each
 * answered one exactly once.
 *
 *   npx tsx scripts/amqp-restarts.ts [--restarts 10] [--stop-ms 3000] [--timeout-ms 5000] [--requesters 8]
 */
import { execFile } from "node:child_process";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import { AMQPSpace, Agent } from "../src/index.js";
import { Calculator } from "../test/fixtures/calculator.js";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    restarts: { type: "string", default: "10" },
    "stop-ms": { type: "string", default: "3000" },
    "timeout-ms": { type: "string", default: "5000" },
    requesters: { type: "string", default: "8" },
    serve: { type: "string" },
  },
});

if (values.serve) {
  // The receiving process: hosts the Calculator until its stdin closes.
  const [exchange, id] = values.serve.split(",") as [string, string];
  const space = new AMQPSpace({ exchange });
  space.on("error", () => {}); // the broker's restarts are reported here: expected
  await space.add(Calculator, id);
  console.log("ready");
  process.stdin.resume();
  process.stdin.on("end", () => void space.destroy().then(() => process.exit(0)));
} else {
  const restarts = Number(values.restarts);
  const stopMs = Number(values["stop-ms"]);
  const timeoutMs = Number(values["timeout-ms"]);
  const requesters = Number(values.requesters);
  const tag = Math.random().toString(36).slice(2, 8);
  const exchange = `agentspace-restarts-${tag}`;
  const id = `calc-${tag}`;
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--serve", `${exchange},${id}`], { stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve) => child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve()));

  const space = new AMQPSpace({ exchange, requestTimeoutMs: timeoutMs });
  space.on("error", () => {});
  const me = await space.addForeground(Agent, `me-${tag}`);
  const outcomes = new Map<string, number>();
  let answered = 0;
  let lastAnswerAt = 0;
  /** Per restart: from `stop_app` to the first answer after it. */
  const gaps: number[] = [];
  let going = true;
  const lane = async () => {
    while (going) {
      const outcome = await me.request({ to: id, action: { name: "accumulate", args: { n: 1 } } }).then(
        () => "answered",
        (error: Error) => error.name,
      );
      if (outcome === "answered") {
        answered++;
        lastAnswerAt = Date.now();
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  };
  const lanes = Array.from({ length: requesters }, lane);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const started = Date.now();
  for (let i = 1; i <= restarts; i++) {
    await sleep(1_000);
    const stoppedAt = Date.now();
    await run("rabbitmqctl", ["stop_app"]);
    await sleep(stopMs);
    await run("rabbitmqctl", ["start_app"]);
    // Recovered: 50 answers since the broker came back.
    const before = answered;
    while (lastAnswerAt <= stoppedAt + stopMs) await sleep(5);
    gaps.push(lastAnswerAt - stoppedAt);
    while (answered < before + 50) await sleep(50);
    console.log(`restart ${i}: first answer ${gaps.at(-1)} ms after stop_app; so far ${[...outcomes].map(([kind, n]) => `${kind} ${n}`).join(", ")}`);
  }
  going = false;
  await Promise.all(lanes);
  const total = await me.request<number>({ to: id, action: { name: "accumulate", args: { n: 0 } } });
  const requests = [...outcomes.values()].reduce((a, b) => a + b, 0);
  const failed = requests - answered;
  console.log(
    `${restarts} restarts of ${stopMs} ms in ${((Date.now() - started) / 1000).toFixed(0)} s, ${requesters} requesters, ${timeoutMs} ms timeout: ` +
      `no answer for ${Math.min(...gaps)}–${Math.max(...gaps)} ms per restart; ` +
      `${requests} requests, ${[...outcomes].map(([kind, n]) => `${kind} ${n}`).join(", ")}; ` +
      `the total is ${total}: ${total === answered ? "each answered request applied once" : `${total - answered} more than answered`}${failed ? ` (${failed} failed, applied or not)` : ""}`,
  );
  await space.destroy();
  child.stdin!.end();
}
