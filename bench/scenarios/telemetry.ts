/**
 * What telemetry costs: LocalSpace and the router (two agents in two worker
 * threads) pipelining sends, and LocalSpace sequential requests, with no
 * OpenTelemetry SDK registered, then with one that records every span (and
 * drops it: no exporter's network in the figure), in the same run. The
 * no-SDK figures are the ones to compare with a build without telemetry
 * (`throughput` of an earlier commit, in alternate runs).
 */
import { Agent, LocalSpace, MultiprocessSpace, type Space } from "agentspace";
import { Echo } from "../agents/echo.js";
import { now, nsSince } from "../lib/clock.js";
import type { Context, Scenario } from "../lib/scenario.js";
import { pipeline } from "./space-throughput.js";

const telemetryModule = new URL("../agents/otel-setup.ts", import.meta.url);

interface Where {
  key: string;
  name: string;
  make(traced: boolean): Space;
}

const wheres: Where[] = [
  { key: "local", name: "LocalSpace", make: () => new LocalSpace() },
  { key: "router", name: "MultiprocessSpace, 2 agents in 2 threads", make: (traced) => new MultiprocessSpace(traced ? { telemetry: telemetryModule } : {}) },
];

async function pipelined(ctx: Context, where: Where, traced: boolean, n: number): Promise<void> {
  const made = {
    create: () => {
      const space = where.make(traced);
      return { space, close: () => space.destroy() };
    },
    sharedIds: false,
  };
  const rig = await pipeline(made, n);
  try {
    const mode = traced ? "sdk" : "off";
    const vs = traced ? { vs: `${where.key}-off-throughput` } : {};
    await ctx.throughput(
      { key: `${where.key}-${mode}-throughput`, label: `${where.name}: ${n.toLocaleString("en-US")} sends, ${traced ? "SDK recording every span" : "no SDK"}`, unit: "msg/s", ...vs },
      () => rig.once(),
    );
  } finally {
    await rig.close();
  }
}

async function sequential(ctx: Context, traced: boolean, k: number): Promise<void> {
  const space = new LocalSpace();
  try {
    const me = await space.addForeground(Agent, "me");
    await space.add(Echo, "echo");
    const mode = traced ? "sdk" : "off";
    await ctx.latency(
      { key: `local-${mode}-latency`, label: `LocalSpace: sequential requests, ${traced ? "SDK recording every span" : "no SDK"}`, unit: "µs", ...(traced ? { vs: "local-off-latency" } : {}) },
      async () => {
        const samples: number[] = [];
        for (let i = 0; i < k; i++) {
          const start = now();
          await me.request({ to: "echo", action: { name: "echo", args: { n: i } } });
          samples.push(nsSince(start));
        }
        return samples;
      },
    );
  } finally {
    await space.destroy();
  }
}

export const telemetry: Scenario = {
  name: "telemetry",
  group: "spaces",
  description: "tracing's cost: pipelined sends (LocalSpace, the router) and sequential requests, with no SDK and with one recording every span",
  async run(ctx) {
    const n = ctx.size(200_000, 20_000);
    const k = ctx.size(5_000, 500);
    // No SDK first: once registered, one stays for the rest of the process.
    for (const where of wheres) await pipelined(ctx, where, false, n);
    await sequential(ctx, false, k);
    await import(telemetryModule.href);
    for (const where of wheres) await pipelined(ctx, where, true, n);
    await sequential(ctx, true, k);
    ctx.note("the SDK is @opentelemetry/sdk-trace-base's BasicTracerProvider, sampling every span, with a processor that drops them: an exporter's own cost is not in these figures");
    ctx.note("a send makes one PRODUCER span in the sender and one CONSUMER span in the receiver; a request's PRODUCER span lasts until its answer");
  },
};
