/**
 * A space's metrics in Prometheus's text format, built with prom-client on
 * a registry of the space's own (never prom-client's global one), labelled
 * by agent class, never by agent id: 100,000 agents make no more series
 * than their classes do.
 */
import type { VirtualStats } from "../virtual-kinds.js";
import type { AgentStats } from "../stats.js";
import { DURATION_BUCKETS, type DurationRow } from "./durations.js";

/** What metrics report of one class's agents. */
export interface ClassCounts {
  agents: number;
  received: number;
  sent: number;
  mailboxDepth: number;
  restarts: number;
  dropped: number;
}

/** Prometheus's text format, version 0.0.4: what prom-client's registries write. */
export const METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The counts of `agentClass` in `byClass`, made at zero if need be. */
function countsOf(byClass: Map<string, ClassCounts>, agentClass: string): ClassCounts {
  let counts = byClass.get(agentClass);
  if (!counts) byClass.set(agentClass, (counts = { agents: 0, received: 0, sent: 0, mailboxDepth: 0, restarts: 0, dropped: 0 }));
  return counts;
}

/** Adds what an agent counted (its counters, not its gauges) into `counts`. */
function addCounters(counts: ClassCounts, stats: AgentStats): void {
  counts.received += stats.received;
  counts.sent += stats.sent;
  counts.restarts += stats.restarts;
  counts.dropped += stats.dropped;
}

/**
 * The counts of agents that left, by class: a counter must never go down
 * (Prometheus reads a drop as a restart of the process), so what an agent
 * counted stays counted after it leaves.
 */
export class DepartedCounts {
  readonly #byClass = new Map<string, ClassCounts>();

  add(agentClass: string, stats: AgentStats): void {
    addCounters(countsOf(this.#byClass, agentClass), stats);
  }

  /** By class: the agents present now (`present`) with the departed ones' counters added. */
  withPresent(present: Iterable<{ agentClass: string; stats: AgentStats }>): Map<string, ClassCounts> {
    const byClass = new Map<string, ClassCounts>();
    for (const [agentClass, counts] of this.#byClass) byClass.set(agentClass, { ...counts });
    for (const { agentClass, stats } of present) {
      const counts = countsOf(byClass, agentClass);
      addCounters(counts, stats);
      counts.agents++;
      counts.mailboxDepth += stats.mailboxDepth;
    }
    return byClass;
  }
}

const DURATION = "agentspace_action_duration_seconds";

/** The Prometheus text of `classes` and `durations` (METRICS_CONTENT_TYPE). */
export async function prometheusText(classes: Map<string, ClassCounts>, durations: Iterable<DurationRow>, virtual: Record<string, VirtualStats> = {}): Promise<string> {
  const { Registry, Counter, Gauge, AggregatorRegistry } = await import("prom-client");
  const registry = new Registry();
  const registers = [registry];
  const messages = new Counter({
    name: "agentspace_messages_total",
    help: "Messages agents received (answers to their requests not counted) and sent (answers included).",
    labelNames: ["agent_class", "direction"] as const,
    registers,
  });
  const depth = new Gauge({ name: "agentspace_mailbox_depth", help: "Messages waiting in agents' mailboxes, not yet taken.", labelNames: ["agent_class"] as const, registers });
  const restarts = new Counter({ name: "agentspace_restarts_total", help: "Times agents were restarted after a crash.", labelNames: ["agent_class"] as const, registers });
  const dropped = new Counter({
    name: "agentspace_dropped_total",
    help: "Items from agents' threads the space dropped as malformed or forged.",
    labelNames: ["agent_class"] as const,
    registers,
  });
  const agents = new Gauge({ name: "agentspace_agents", help: "Agents in the space.", labelNames: ["agent_class"] as const, registers });
  for (const [agentClass, counts] of classes) {
    const labels = { agent_class: agentClass };
    messages.inc({ ...labels, direction: "received" }, counts.received);
    messages.inc({ ...labels, direction: "sent" }, counts.sent);
    depth.set(labels, counts.mailboxDepth);
    restarts.inc(labels, counts.restarts);
    dropped.inc(labels, counts.dropped);
    agents.set(labels, counts.agents);
  }
  // Only for classes of virtual agents: none when the space has none.
  if (Object.keys(virtual).length > 0) {
    const activations = new Counter({ name: "agentspace_activations_total", help: "Virtual agents activated by their first message.", labelNames: ["agent_class"] as const, registers });
    const passivations = new Counter({ name: "agentspace_passivations_total", help: "Virtual agents passivated when idle.", labelNames: ["agent_class"] as const, registers });
    for (const [agentClass, counts] of Object.entries(virtual)) {
      activations.inc({ agent_class: agentClass }, counts.activations);
      passivations.inc({ agent_class: agentClass }, counts.passivations);
    }
  }
  // The histogram is counted in the agents' threads, not here: handed to prom-client
  // in the form its registries exchange (getMetricsAsJSON), which it merges and writes.
  const histogram = AggregatorRegistry.aggregate<typeof registry.contentType>([[{ name: DURATION, help: "How long actions took, from their start to their outcome.", type: "histogram", aggregator: "sum", values: histogramValues(durations) }]]);
  const merged = Registry.merge([registry, histogram]);
  return merged.metrics();
}

function histogramValues(durations: Iterable<DurationRow>): Array<{ metricName: string; labels: Record<string, string | number>; value: number }> {
  const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
  for (const row of durations) {
    const labels = { agent_class: row.agentClass, action: row.action };
    let cumulative = 0;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) {
      cumulative += row.buckets[i]!;
      values.push({ metricName: `${DURATION}_bucket`, labels: { le: DURATION_BUCKETS[i]!, ...labels }, value: cumulative });
    }
    values.push({ metricName: `${DURATION}_bucket`, labels: { le: "+Inf", ...labels }, value: row.count });
    values.push({ metricName: `${DURATION}_sum`, labels, value: row.sum });
    values.push({ metricName: `${DURATION}_count`, labels, value: row.count });
  }
  return values;
}
