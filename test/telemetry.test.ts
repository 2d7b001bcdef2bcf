/**
 * Traces with a real OpenTelemetry SDK, exported over OTLP/HTTP to a small
 * collector on localhost, across worker threads, processes and brokers.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AMQPSpace, LocalSpace, Manager, MultiprocessSpace, RedisSpace, type Space } from "../src/index.js";
import { describeWithBroker, deleteExchangesMade, probeBroker, uniqueExchange } from "./helpers/broker.js";
import { ChildScript } from "./helpers/child.js";
import { CONSUMER, OtlpCollector, PRODUCER, STATUS_ERROR, type CollectedSpan } from "./helpers/otlp-collector.js";
import { deleteNamespacesMade, describeWithRedis, probeRedis, uniqueNamespace } from "./helpers/redis.js";
import { Echo as NodeEcho } from "./fixtures/node-agents.js";
import { Echo, Relay } from "./fixtures/telemetry/relay.js";

const telemetry = new URL("./fixtures/telemetry/otel-setup.ts", import.meta.url);
const peerScript = new URL("./fixtures/telemetry/peer.ts", import.meta.url);
const [redisProbe, brokerProbe] = await Promise.all([probeRedis(), probeBroker()]);

let collector: OtlpCollector;

beforeAll(async () => {
  collector = await OtlpCollector.start();
  // Before the SDK loads: it reads where to send from here, in this process, its workers and children.
  process.env.AGENTSPACE_TEST_OTLP = collector.url;
  await import("./fixtures/telemetry/otel-setup.js");
});

afterAll(async () => {
  await collector.close();
  await deleteNamespacesMade();
  await deleteExchangesMade();
});

/** Where a span was made: process and thread. */
function whereMade(span: CollectedSpan): string {
  return `${String(span.resource["test.pid"])}/${String(span.resource["test.thread"])}`;
}

/**
 * The four spans of a foreground request to `relay`, which requests `echo`
 * of `to`: each the parent of the next, in one trace.
 */
async function relayedTrace(space: Space, relay: string, to: string, n: number): Promise<CollectedSpan[]> {
  // Every span of this request ends after it starts: those received before belong to other tests.
  const before = collector.spans.length;
  await expect(space.handle<Relay>(relay).pass({ to, n })).resolves.toBe(n);
  const chain = (spans: CollectedSpan[]): CollectedSpan[] | undefined => {
    const child = (parent: CollectedSpan | undefined, name: string) => parent && spans.find((span) => span.parentSpanId === parent.spanId && span.name === name);
    const root = spans.find((span) => span.name === "request pass" && span.parentSpanId === undefined);
    const consumer = child(root, "pass");
    const inner = child(consumer, "request echo");
    const last = child(inner, "echo");
    return last ? [root!, consumer!, inner!, last] : undefined;
  };
  let found: CollectedSpan[] | undefined;
  await collector.until((spans) => (found = chain(spans.slice(before))) !== undefined);
  return found!;
}

function expectChain([root, consumer, inner, last]: CollectedSpan[], relay: string, to: string): void {
  for (const span of [consumer, inner, last]) expect(span!.traceId).toBe(root!.traceId);
  expect([root!.kind, consumer!.kind, inner!.kind, last!.kind]).toEqual([PRODUCER, CONSUMER, PRODUCER, CONSUMER]);
  expect(root!.attributes).toMatchObject({ "messaging.system": "agentspace", "messaging.operation.name": "request", "agentspace.receiver": relay });
  expect(consumer!.attributes).toMatchObject({ "messaging.operation.type": "process", "agentspace.receiver": relay, "agentspace.agent_class": "Relay" });
  expect(consumer!.attributes["messaging.message.id"]).toBe(root!.attributes["messaging.message.id"]);
  expect(inner!.attributes).toMatchObject({ "agentspace.sender": relay, "agentspace.receiver": to });
  expect(last!.attributes).toMatchObject({ "agentspace.receiver": to, "agentspace.agent_class": "Echo", "messaging.message.id": inner!.attributes["messaging.message.id"] });
}

describe("traces", () => {
  it("follow a request from a foreground agent through two worker threads, one trace across three threads", async () => {
    const space = new MultiprocessSpace({ telemetry });
    try {
      await space.add(Relay, "relay");
      await space.add(Echo, "echo");
      const spans = await relayedTrace(space, "relay", "echo", 7);
      expectChain(spans, "relay", "echo");
      // The request from here, the relay's thread, the echo's thread.
      expect(new Set(spans.map(whereMade)).size).toBe(3);
    } finally {
      await space.destroy();
    }
  });

  it("mark the span of an action that throws with an error status and its exception", async () => {
    const space = new MultiprocessSpace({ telemetry });
    try {
      await space.add(Echo, "echo");
      await expect(space.handle<Echo>("echo").boom()).rejects.toThrow("boom, as asked");
      await collector.until((spans) => spans.some((span) => span.name === "boom" && span.kind === CONSUMER));
      const consumer = collector.spans.find((span) => span.name === "boom" && span.kind === CONSUMER)!;
      expect(consumer.statusCode).toBe(STATUS_ERROR);
      expect(consumer.statusMessage).toContain("RangeError: boom, as asked");
      expect(consumer.events).toContain("exception");
      // The request that met the error is marked too.
      const producer = collector.spans.find((span) => span.spanId === consumer.parentSpanId)!;
      expect(producer.name).toBe("request boom");
      expect(producer.statusCode).toBe(STATUS_ERROR);
    } finally {
      await space.destroy();
    }
  });

  it("carry a broadcast's context to every receiver: one producer span, a consumer span each", async () => {
    const space = new LocalSpace();
    try {
      await space.add(Echo, "e1");
      await space.add(Echo, "e2");
      const caller = await space.addForeground(Relay, "caller");
      const id = caller.send({ to: "*", action: { name: "echo", args: { n: 1 } } });
      await collector.until((spans) => spans.filter((span) => span.name === "echo" && span.attributes["messaging.message.id"] === id).length === 2);
      const producer = collector.spans.filter((span) => span.name === "send echo" && span.attributes["messaging.message.id"] === id);
      expect(producer).toHaveLength(1);
      expect(producer[0]!.attributes["messaging.destination.name"]).toBe("*");
      const receivers = collector.spans.filter((span) => span.name === "echo" && span.attributes["messaging.message.id"] === id);
      expect(receivers.map((span) => span.parentSpanId)).toEqual([producer[0]!.spanId, producer[0]!.spanId]);
      expect(receivers.map((span) => span.attributes["agentspace.receiver"]).sort()).toEqual(["e1", "e2"]);
    } finally {
      await space.destroy();
    }
  });

  it("refuse a telemetry module that does not exist, saying what to give", () => {
    expect(() => new MultiprocessSpace({ telemetry: "./no-such-otel.ts" })).toThrow(/telemetry module .*no-such-otel\.ts does not exist: give the path of the module that registers your OpenTelemetry SDK/);
  });
});

describeWithRedis("traces on RedisSpace", redisProbe, () => {
  it.each([
    ["through Redis", false],
    ["on the direct path", true],
  ])("follow a request across two processes, %s", async (_, direct) => {
    const namespace = uniqueNamespace("telemetry");
    const peer = new ChildScript(peerScript, [direct ? "redis-direct" : "redis", namespace, "far-echo"]);
    const space = new RedisSpace({ namespace, telemetry, direct });
    try {
      await peer.waitFor("ready far-echo");
      await space.add(Relay, "relay");
      const spans = await relayedTrace(space, "relay", "far-echo", 11);
      expectChain(spans, "relay", "far-echo");
      expect(new Set(spans.map((span) => span.resource["test.pid"])).size).toBe(2);
      expect(new Set(spans.map(whereMade)).size).toBe(3);
    } finally {
      await space.destroy();
      await peer.end();
    }
  });
});

describeWithBroker("traces on AMQPSpace", brokerProbe, () => {
  it("follow a request across two processes, through RabbitMQ", async () => {
    const exchange = uniqueExchange("agentspace-telemetry");
    const echoId = `far-echo-${exchange.slice(-6)}`;
    const relayId = `relay-${exchange.slice(-6)}`;
    const peer = new ChildScript(peerScript, ["amqp", exchange, echoId]);
    const space = new AMQPSpace({ exchange, telemetry });
    try {
      await peer.waitFor(`ready ${echoId}`);
      await space.add(Relay, relayId);
      const spans = await relayedTrace(space, relayId, echoId, 13);
      expectChain(spans, relayId, echoId);
      expect(new Set(spans.map((span) => span.resource["test.pid"])).size).toBe(2);
    } finally {
      await space.destroy();
      await peer.end();
    }
  });
});

describeWithRedis("agentspace node --telemetry --metrics-port", redisProbe, () => {
  it("traces the node's agents with the module's SDK and serves the node's metrics", { timeout: 60_000 }, async () => {
    const namespace = uniqueNamespace("telemetry-node");
    const node = new ChildScript(new URL("../src/cli/main.ts", import.meta.url), [
      "node",
      fileURLToPath(new URL("./fixtures/node-agents.ts", import.meta.url)),
      "--namespace",
      namespace,
      "--name",
      "traced",
      "--telemetry",
      fileURLToPath(telemetry),
      "--metrics-port",
      "0",
    ]);
    const space = new RedisSpace({ namespace });
    try {
      await node.waitFor("ready: offers");
      const url = /metrics at (http:\/\/\S+)/.exec(node.output)![1]!;
      const manager = new Manager(space);
      await manager.launch(NodeEcho, "node-echo", undefined, { node: "traced" });
      await expect(space.handle<NodeEcho>("node-echo").echo({ value: 5 })).resolves.toBe(5);
      await collector.until((spans) => spans.some((span) => span.name === "echo" && span.kind === CONSUMER && span.attributes["agentspace.receiver"] === "node-echo"));
      const consumer = collector.spans.find((span) => span.name === "echo" && span.attributes["agentspace.receiver"] === "node-echo")!;
      expect(consumer.resource["test.pid"]).toBe(node.process.pid);
      const metrics = await (await fetch(url)).text();
      expect(metrics).toContain('agentspace_agents{agent_class="Echo"} 1');
      expect(metrics).toContain('agentspace_messages_total{agent_class="Echo",direction="received"} 1');
    } finally {
      await space.destroy();
      node.process.kill("SIGTERM");
      await node.exited;
    }
  });
});
