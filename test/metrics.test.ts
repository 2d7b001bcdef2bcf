/**
 * `space.metrics()` and `serveMetrics()`: Prometheus's text format, counts
 * that match `space.stats()`, durations gathered from every thread.
 */
import { describe, expect, it } from "vitest";
import { LocalSpace, MultiprocessSpace, type Space } from "../src/index.js";
import { Calculator } from "./fixtures/calculator.js";
import { Echo } from "./fixtures/telemetry/relay.js";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (-?(?:[0-9.e+-]+|\\+Inf|-Inf|NaN))$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/** Every line of `text` as Prometheus's text format has it (a comment, a sample, or empty); throws at the first that is not. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      expect(line).toMatch(new RegExp(`^# (HELP ${NAME} .+|TYPE ${NAME} (counter|gauge|histogram|summary|untyped))$`));
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    const text = match[2] ?? "";
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < text.length) {
      const label = LABEL.exec(text);
      if (!label) throw new Error(`bad labels in: ${line}`);
      labels[label[1]!] = label[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))?.value;
}

/** Sums of `space.stats()` by class. */
function statsByClass(space: Space, classOf: (id: string) => string): Map<string, { received: number; sent: number }> {
  const sums = new Map<string, { received: number; sent: number }>();
  for (const [id, stats] of Object.entries(space.stats())) {
    const sum = sums.get(classOf(id)) ?? { received: 0, sent: 0 };
    sum.received += stats.received;
    sum.sent += stats.sent;
    sums.set(classOf(id), sum);
  }
  return sums;
}

describe("metrics", () => {
  it("are Prometheus text whose counters match space.stats(), with durations from every worker thread", async () => {
    const space = new MultiprocessSpace({ threads: 2 });
    try {
      for (let i = 0; i < 4; i++) await space.add(Calculator, `calc-${i}`);
      for (let i = 0; i < 4; i++) await space.add(Echo, `echo-${i}`);
      // The first call starts the timing: what follows is timed in both threads.
      parse(await space.metrics());
      for (let i = 0; i < 4; i++) {
        await space.handle<Calculator>(`calc-${i}`).add({ a: i, b: 1 });
        await space.handle<Echo>(`echo-${i}`).echo({ n: i });
        await space.handle<Echo>(`echo-${i}`).echo({ n: i });
      }
      const samples = parse(await space.metrics());
      const sums = statsByClass(space, (id) => (id.startsWith("calc") ? "Calculator" : "Echo"));
      for (const [agentClass, sum] of sums) {
        expect(valueOf(samples, "agentspace_messages_total", { agent_class: agentClass, direction: "received" })).toBe(sum.received);
        expect(valueOf(samples, "agentspace_messages_total", { agent_class: agentClass, direction: "sent" })).toBe(sum.sent);
        expect(valueOf(samples, "agentspace_agents", { agent_class: agentClass })).toBe(4);
        expect(valueOf(samples, "agentspace_mailbox_depth", { agent_class: agentClass })).toBe(0);
        expect(valueOf(samples, "agentspace_restarts_total", { agent_class: agentClass })).toBe(0);
        expect(valueOf(samples, "agentspace_dropped_total", { agent_class: agentClass })).toBe(0);
      }
      expect(sums.get("Echo")!.received).toBe(8);
      const duration = "agentspace_action_duration_seconds";
      expect(valueOf(samples, `${duration}_count`, { agent_class: "Echo", action: "echo" })).toBe(8);
      expect(valueOf(samples, `${duration}_count`, { agent_class: "Calculator", action: "add" })).toBe(4);
      expect(valueOf(samples, `${duration}_bucket`, { agent_class: "Echo", action: "echo", le: "+Inf" })).toBe(8);
      // Cumulative buckets never go down.
      const buckets = samples.filter((sample) => sample.name === `${duration}_bucket` && sample.labels.action === "echo").map((sample) => sample.value);
      expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
      expect(valueOf(samples, `${duration}_sum`, { agent_class: "Echo", action: "echo" })).toBeGreaterThan(0);
    } finally {
      await space.destroy();
    }
  });

  it("keep what agents that left counted: a counter never goes down", async () => {
    const space = new MultiprocessSpace({ metrics: true });
    try {
      await space.add(Echo, "once");
      await space.handle<Echo>("once").echo({ n: 1 });
      await space.remove("once");
      const samples = parse(await space.metrics());
      expect(valueOf(samples, "agentspace_messages_total", { agent_class: "Echo", direction: "received" })).toBe(1);
      expect(valueOf(samples, "agentspace_agents", { agent_class: "Echo" })).toBe(0);
      // Timed from the start (metrics: true), in a thread that has ended since.
      expect(valueOf(samples, "agentspace_action_duration_seconds_count", { agent_class: "Echo", action: "echo" })).toBe(1);
    } finally {
      await space.destroy();
    }
  });

  it("are served over HTTP at /metrics, as metrics() gives them", async () => {
    const space = new LocalSpace();
    try {
      await space.add(Echo, "echo");
      const server = await space.serveMetrics();
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      await space.handle<Echo>("echo").echo({ n: 1 });
      const response = await fetch(server.url);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      const served = parse(await response.text());
      const direct = parse(await space.metrics());
      expect(served).toEqual(direct);
      expect(valueOf(served, "agentspace_action_duration_seconds_count", { agent_class: "Echo", action: "echo" })).toBe(1);
      expect((await fetch(server.url.replace("/metrics", "/other"))).status).toBe(404);
      expect((await fetch(server.url, { method: "POST" })).status).toBe(405);
      await server.close();
      await expect(fetch(server.url)).rejects.toThrow();
    } finally {
      await space.destroy();
    }
  });

  it("make series per class, not per agent: 10,000 agents of 2 classes", async () => {
    const space = new LocalSpace({ metrics: true });
    try {
      const adds: Promise<void>[] = [];
      for (let i = 0; i < 5_000; i++) adds.push(space.add(Calculator, `c${i}`), space.add(Echo, `e${i}`));
      await Promise.all(adds);
      await Promise.all(Array.from({ length: 100 }, (_, i) => space.handle<Echo>(`e${i}`).echo({ n: i })));
      const samples = parse(await space.metrics());
      expect(samples.filter((sample) => sample.name === "agentspace_agents")).toEqual([
        { name: "agentspace_agents", labels: { agent_class: "Calculator" }, value: 5_000 },
        { name: "agentspace_agents", labels: { agent_class: "Echo" }, value: 5_000 },
      ]);
      expect(samples.filter((sample) => sample.name === "agentspace_messages_total")).toHaveLength(4);
      expect(samples.filter((sample) => sample.name === "agentspace_action_duration_seconds_count")).toHaveLength(1);
      expect(new Set(samples.map((sample) => sample.labels.agent_class))).toEqual(new Set(["Calculator", "Echo"]));
    } finally {
      await space.destroy();
    }
  });
});
