/**
 * Every scenario, in the order a full run takes them. To add one: write a
 * module exporting a `Scenario` (bench/lib/scenario.ts) and list it here.
 */
import type { Scenario } from "../lib/scenario.js";
import { amqpRaw } from "./amqp.js";
import { comlink } from "./comlink.js";
import { curves } from "./curves.js";
import { direct } from "./direct.js";
import { durable } from "./durable.js";
import { exchange } from "./exchange.js";
import { virtualAgents } from "./virtual.js";
import { telemetry } from "./telemetry.js";
import { inThread } from "./in-thread.js";
import { loops } from "./loops.js";
import { million } from "./million.js";
import { nodes } from "./nodes.js";
import { piscina } from "./piscina.js";
import { redisRaw } from "./redis.js";
import { ports } from "./ports.js";
import { roundTrip } from "./round-trip.js";
import { savina } from "./savina.js";
import { spaceAdd } from "./space-add.js";
import { spaceFanOut } from "./space-fan-out.js";
import { spaceLatency } from "./space-latency.js";
import { spaceThroughput } from "./space-throughput.js";
import { spawn } from "./spawn.js";
import { swarmScenario } from "./swarm.js";
import { swarmScale } from "./swarm-scale.js";

export const scenarios: readonly Scenario[] = [
  // Baselines: what the machine and the peers do, with no agentspace code.
  ports,
  roundTrip,
  comlink,
  piscina,
  inThread,
  spawn,
  amqpRaw,
  redisRaw,
  // Our spaces, each figure as a ratio to the baseline it cannot beat.
  spaceThroughput,
  spaceLatency,
  spaceFanOut,
  spaceAdd,
  direct,
  durable,
  exchange,
  virtualAgents,
  telemetry,
  swarmScenario,
  swarmScale,
  savina,
  million,
  loops,
  nodes,
  // How cost grows: last, the longest.
  curves,
];
