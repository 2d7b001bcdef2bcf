/**
 * The spaces every space scenario measures, each with the baselines its
 * figures are divided by. A space that "agentspace" does not export (yet), or
 * whose broker does not answer, is left out with a note saying so.
 *
 * Each entry is looked up by its class name among the exports of
 * "agentspace", so a space joins every space scenario by being exported and
 * listed here (AMQPSpace also needs its broker to answer).
 */
import { nanoid } from "nanoid";
import * as agentspace from "agentspace";
import type { Space } from "agentspace";
import { brokerSettings, connectBroker } from "./broker.js";
import { rawStreamOneWay, rawStreamRoundTrip, redisProblem } from "./redis.js";
import { mailboxRun } from "../scenarios/in-thread.js";
import { directPipeline } from "../scenarios/ports.js";
import { mainToWorker, workerToWorker } from "../scenarios/round-trip.js";
import { bareRig, type RawBaseline } from "./alternate.js";
import type { Context, Count } from "./scenario.js";

export type Baseline<T> = RawBaseline<T> | string;

type SpaceConstructor = new (options?: Record<string, unknown>) => Space;

export interface SpaceKind {
  /** The exported class name, as printed: "LocalSpace", … */
  name: string;
  /** Figure keys start with it: "local-…", "multiprocess-…". */
  key: string;
  /** Each agent of `add` runs in a worker thread of its own. */
  inWorkers: boolean;
  /** Orders of magnitude slower than the in-process spaces: scenarios use smaller sizes. */
  slow: boolean;
  /**
   * Agent ids are seen beyond this process (a broker's queues are named by
   * them): scenarios make theirs unique, so that a concurrent test run or
   * bench never collides with them.
   */
  sharedIds: boolean;
  /**
   * What a space's figures are divided by, where a baseline exists: a raw rig
   * measured in alternate runs with the figure (lib/alternate.ts), or a figure
   * of a baseline scenario of the same run ("<scenario>/<key>").
   */
  baselines: {
    /** One agent pipelining messages to another. */
    throughput?: Baseline<Count>;
    /** A request from an agent to another agent. */
    agentRequest?: Baseline<number[]>;
    /** A request from a foreground agent (the main thread) to an agent. */
    foregroundRequest?: Baseline<number[]>;
  };
  /** A new space of this kind, and how to release it and whatever it left behind (e.g. on a broker). */
  create(): MadeSpace;
}

export interface MadeSpace {
  space: Space;
  /** Destroys the space, then deletes what it declared outside this process. */
  close(): Promise<void>;
}

interface Entry extends Omit<SpaceKind, "create"> {
  make(Cls: SpaceConstructor): MadeSpace;
  /** Why the space cannot be measured now, or undefined when it can. */
  unavailable?(): Promise<string | undefined>;
}

const ENTRIES: Entry[] = [
  {
    name: "LocalSpace",
    key: "local",
    inWorkers: false,
    slow: false,
    sharedIds: false,
    baselines: {
      throughput: { label: "raw: array mailbox drained in one microtask (in-thread/mailbox)", rig: async (n) => bareRig(() => mailboxRun(n)) },
    },
    make: destroyOnly,
  },
  {
    name: "MultiprocessSpace",
    key: "multiprocess",
    inWorkers: true,
    slow: false,
    sharedIds: false,
    baselines: {
      throughput: { label: "raw: worker → worker MessagePort, 1 per postMessage (ports/direct-1)", rig: directPipeline },
      agentRequest: { label: "raw: worker → main → worker → main → worker (round-trip/worker-main-worker)", rig: workerToWorker },
      foregroundRequest: { label: "raw: main ⇄ worker (round-trip/main-worker)", rig: mainToWorker },
    },
    make: destroyOnly,
  },
  {
    name: "AMQPSpace",
    key: "amqp",
    inWorkers: true,
    slow: true,
    sharedIds: true,
    baselines: { throughput: "amqp/throughput", agentRequest: "amqp/round-trip", foregroundRequest: "amqp/round-trip" },
    make: (Cls) => {
      // An exchange of its own per space, so that runs never see each other's
      // agents; AMQPSpace leaves it on the broker (durable, shared), so it goes here.
      const exchange = `agentspace-bench-${nanoid(8)}`;
      const space = new Cls({ exchange });
      return { space, close: () => space.destroy().finally(() => deleteExchange(exchange)) };
    },
    unavailable: brokerProblem,
  },
  {
    name: "RedisSpace",
    key: "redis",
    inWorkers: true,
    slow: true,
    // A namespace of its own per space: its ids are seen by nobody else.
    sharedIds: false,
    baselines: {
      throughput: { label: "raw: node-redis XADD pipelined → XREADGROUP → XACK (redis/one-way)", rig: rawStreamOneWay },
      agentRequest: { label: "raw: node-redis round trip over two streams (redis/round-trip)", rig: rawStreamRoundTrip },
      foregroundRequest: { label: "raw: node-redis round trip over two streams (redis/round-trip)", rig: rawStreamRoundTrip },
    },
    // destroy() ends every mailbox of the space, and with them every key of its namespace.
    make: (Cls) => {
      return destroying(new Cls({ namespace: `bench-${tag()}` }));
    },
    unavailable: redisProblem,
  },
];

function destroyOnly(Cls: SpaceConstructor): MadeSpace {
  return destroying(new Cls());
}

/** A space that its destroy() ends, with all it declared. */
export function destroying(space: Space): MadeSpace {
  return { space, close: () => space.destroy() };
}

/** Eight random letters and digits: a name part (a Redis namespace, an id) no other run uses. */
export function tag(): string {
  return nanoid(8).replace(/[^A-Za-z0-9]/g, "x");
}

async function deleteExchange(exchange: string): Promise<void> {
  const connection = await connectBroker(true);
  try {
    const channel = await connection.createChannel();
    await channel.deleteExchange(exchange);
  } finally {
    await connection.close();
  }
}

async function brokerProblem(): Promise<string | undefined> {
  try {
    const connection = await connectBroker(true);
    await connection.close();
    return undefined;
  } catch (error) {
    const { hostname, port } = brokerSettings();
    return `no broker answered at ${hostname}:${port} (${error instanceof Error ? error.message : String(error)})`;
  }
}

function constructorOf(name: string): SpaceConstructor | undefined {
  const exported = (agentspace as Record<string, unknown>)[name];
  return typeof exported === "function" ? (exported as SpaceConstructor) : undefined;
}

function kindOf(entry: Entry, Cls: SpaceConstructor): SpaceKind {
  const { make, unavailable: _, ...kind } = entry;
  return { ...kind, create: () => make(Cls) };
}

/** Makes agent names into ids for one space of `kind`: unique ones where ids are seen beyond this process. */
export function idMaker(kind: Pick<SpaceKind, "sharedIds">): (name: string) => string {
  if (!kind.sharedIds) return (name) => name;
  const run = tag();
  return (name) => `bench-${run}-${name}`;
}

let checked: Promise<{ kinds: SpaceKind[]; missing: string[] }> | undefined;

/** The spaces that can be measured in this process (checked once), and why the others cannot. */
function check(): Promise<{ kinds: SpaceKind[]; missing: string[] }> {
  checked ??= (async () => {
    const kinds: SpaceKind[] = [];
    const missing: string[] = [];
    for (const entry of ENTRIES) {
      const Cls = constructorOf(entry.name);
      const problem = Cls === undefined ? "agentspace does not export it" : await entry.unavailable?.();
      if (problem === undefined) kinds.push(kindOf(entry, Cls!));
      else missing.push(`${entry.name}: not available (${problem})`);
    }
    return { kinds, missing };
  })();
  return checked;
}

/**
 * The spaces a scenario measures, optionally only those matching `filter`;
 * notes each space that is left out and why.
 */
export async function spaceKinds(ctx: Context, filter: (kind: SpaceKind) => boolean = () => true): Promise<SpaceKind[]> {
  const { kinds, missing } = await check();
  for (const line of missing) ctx.note(line);
  return kinds.filter(filter);
}

/** One space by key, for a probe process that measures a single space. */
export function spaceKind(key: string): SpaceKind {
  const entry = ENTRIES.find((candidate) => candidate.key === key);
  const Cls = entry && constructorOf(entry.name);
  if (entry === undefined || Cls === undefined) throw new Error(`no space "${key}" can be made here`);
  return kindOf(entry, Cls);
}
