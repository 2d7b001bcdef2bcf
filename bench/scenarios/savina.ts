/**
 * The Savina actor benchmarks' classic shapes on the public API: ping-pong,
 * the thread ring, counting and fork-join create, each on LocalSpace and on
 * MultiprocessSpace with all agents in one worker thread, over one thread
 * per core, and with a thread per agent; beside the same shapes in Erlang
 * (bench/savina.erl), run in the same run when `escript` is on PATH.
 */
import { availableParallelism } from "node:os";
import { LocalSpace, MultiprocessSpace, type Space, type SpaceOptions } from "agentspace";
import { Finish } from "../agents/finish.js";
import { Sender, Sink } from "../agents/pipeline.js";
import { RingNode } from "../agents/ring.js";
import { Forked, Ping, Pong } from "../agents/savina.js";
import { now, nsSince } from "../lib/clock.js";
import { withDeadline } from "../lib/deadline.js";
import { hasErlang, NO_ERLANG, runErlang } from "../lib/erlang.js";
import { withRig, type Rig } from "../lib/rig.js";
import type { Context, Count, FigureSpec, Scenario, Unit } from "../lib/scenario.js";
import { RUN_TIMEOUT_MS, spaceRig, type SpaceMaker } from "../lib/space-rig.js";
import type { MadeSpace } from "../lib/spaces.js";

/** Where the agents run. */
interface Placement extends SpaceMaker {
  key: string;
  label: string;
  /** Shared worker threads: fork-join starts them before its timing, since Savina times creating actors, not a runtime's threads. */
  sharedThreads: number;
  /** Every agent starts a worker thread of its own: fork-join creates few. */
  threadPerAgent: boolean;
  /** All agents share one thread: messages never cross a thread. */
  inThread: boolean;
  create(options?: SpaceOptions): MadeSpace;
}

function placement(
  key: string,
  label: string,
  make: (options: SpaceOptions) => Space,
  { sharedThreads = 0, threadPerAgent = false, inThread = false }: Partial<Pick<Placement, "sharedThreads" | "threadPerAgent" | "inThread">> = {},
): Placement {
  return {
    key,
    label,
    sharedThreads,
    threadPerAgent,
    inThread,
    sharedIds: false,
    create(options = {}) {
      const space = make(options);
      return { space, close: () => space.destroy() };
    },
  };
}

const cores = availableParallelism();

const PLACEMENTS: Placement[] = [
  placement("local", "LocalSpace", (options) => new LocalSpace(options), { inThread: true }),
  placement("threads-1", "MultiprocessSpace threads: 1", (options) => new MultiprocessSpace({ ...options, threads: 1 }), { sharedThreads: 1, inThread: true }),
  placement("auto", `MultiprocessSpace threads: "auto" (${cores} threads)`, (options) => new MultiprocessSpace({ ...options, threads: "auto" }),
    { sharedThreads: cores }),
  placement("own", "MultiprocessSpace, a thread per agent", (options) => new MultiprocessSpace(options), { threadPerAgent: true }),
];

interface Sizes {
  pingPong: number;
  ringAgents: number;
  ringHops: number;
  counting: number;
  forkJoin: number;
  /** Fork-join with a worker thread per agent: each agent is a thread start. */
  forkJoinOwn: number;
  latency: number;
}

type Shape = "ping-pong" | "thread-ring" | "counting" | "fork-join";

/** Room in the counter's mailbox beyond the n messages: the final request for the total. */
const MAILBOX_SLACK = 16;
/** Fork-join adds this many at once: every add is one control call to its thread. */
const ADD_BATCH = 1_000;

const thousands = (n: number) => n.toLocaleString("en-US");

/**
 * Ping and Pong in a space of `where`; a run is `n` round trips, started by a
 * foreground request to Ping that is answered once the last pong is in (with
 * each round trip's ns, timed in Ping's thread, if `timed`).
 */
function pingPong<T>(where: Placement, n: number, timed: boolean, result: (ns: number, samples: number[]) => T): Promise<Rig<T>> {
  return spaceRig(where, async ({ space, me }) => {
    await space.add(Pong, "pong");
    await space.add(Ping, "ping");
    return async () => {
      const start = now();
      const rally = { to: "ping", action: { name: "rally", args: { to: "pong", n, timed } } };
      const samples = await me.request<number[]>(rally, { timeoutMs: RUN_TIMEOUT_MS });
      return result(nsSince(start), samples);
    };
  });
}

/** `agents` RingNodes in a ring, one token passed `hops` hops; the node it ends at tells a Finish in this thread. */
function threadRing(where: Placement, agents: number, hops: number): Promise<Rig<Count>> {
  return spaceRig(where, async ({ space }) => {
    const finish = await space.addForeground(Finish, "finish");
    await Promise.all(
      Array.from({ length: agents }, (_, i) => space.add(RingNode, `node-${i}`, { next: `node-${(i + 1) % agents}`, finish: "finish" })),
    );
    return async () => {
      const finished = finish.wait(1);
      const start = now();
      finish.send({ to: "node-0", action: { name: "pass", args: { token: 0, hops } } });
      await withDeadline(finished, RUN_TIMEOUT_MS, "the thread ring");
      return { count: hops, ns: nsSince(start) };
    };
  });
}

/** A Sender agent pipelines `n` plain sends into a Sink, then requests the total, which must be `n`. */
function counting(where: Placement, n: number): Promise<Rig<Count>> {
  return spaceRig(where, async ({ space, me }) => {
    // The sender's n sends come in one synchronous burst, which counts whole against the bound.
    await space.add(Sink, "counter", undefined, { mailboxSize: n + MAILBOX_SLACK });
    await space.add(Sender, "sender");
    return async () => {
      const start = now();
      const total = await me.request<number>({ to: "sender", action: { name: "blast", args: { to: "counter", n } } }, { timeoutMs: RUN_TIMEOUT_MS });
      const ns = nsSince(start);
      if (total !== n) throw new Error(`the counter counted ${total} of ${n} messages`);
      return { count: n, ns };
    };
  });
}

/**
 * `n` agents, each added and, once it runs, sent one message; timed until
 * all have handled it. A fresh space per run, since the run's agents stay in it.
 */
async function forkJoin(where: Placement, n: number): Promise<Count> {
  // All n "finished" messages may wait for the Finish at once (a foreground agent takes the space's bound).
  const { space, close } = where.create({ mailboxSize: n + MAILBOX_SLACK });
  try {
    const finish = await space.addForeground(Finish, "finish");
    for (let t = 0; t < where.sharedThreads; t++) await space.add(Forked, `resident-${t}`);
    const joined = finish.wait(n);
    const start = now();
    for (let i = 0; i < n; i += ADD_BATCH) {
      const batch = Array.from({ length: Math.min(ADD_BATCH, n - i) }, (_, j) => `forked-${i + j}`);
      await Promise.all(batch.map(async (id) => {
        await space.add(Forked, id);
        finish.send({ to: id, action: { name: "join", args: {} } });
      }));
    }
    await withDeadline(joined, RUN_TIMEOUT_MS, "fork-join");
    return { count: n, ns: nsSince(start) };
  } finally {
    await close();
  }
}

/** BEAM starts in well under a second; the shapes at full size take about one more. */
const ERLANG_DEADLINE_MS = 60_000;

type ErlangRun = Record<Shape, Count> & { otp: string };

/** One run of bench/savina.erl at our sizes, in a fresh VM. */
function erlangRun(sizes: Sizes): Promise<ErlangRun> {
  return runErlang<ErlangRun>([sizes.pingPong, sizes.ringAgents, sizes.ringHops, sizes.counting, sizes.forkJoin], ERLANG_DEADLINE_MS);
}

/** What each shape is, as its figures' labels and unit say it; no `where`: in Erlang. */
function describeShape(shape: Shape, sizes: Sizes, where?: Placement): { what: string; unit: Unit } {
  const actors = where === undefined ? "processes" : "agents";
  switch (shape) {
    case "ping-pong":
      return { what: `ping-pong, ${thousands(sizes.pingPong)} round trips, a send each way`, unit: "round trips/s" };
    case "thread-ring": {
      const threads = where?.threadPerAgent ? ` (${sizes.ringAgents} threads)` : "";
      return { what: `thread ring, ${sizes.ringAgents} ${actors}${threads}, one token × ${thousands(sizes.ringHops)} hops`, unit: "hops/s" };
    }
    case "counting":
      return { what: `counting, ${thousands(sizes.counting)} sends into one counter, then a request for the total`, unit: "msg/s" };
    case "fork-join": {
      const n = where?.threadPerAgent ? sizes.forkJoinOwn : sizes.forkJoin;
      const threads = where?.threadPerAgent ? ` (${n} threads)` : "";
      const made = where === undefined ? "spawned" : "added";
      return { what: `fork-join create, ${thousands(n)} ${actors}${threads}, each ${made} and sent one message`, unit: "actors/s" };
    }
  }
}

function rig(shape: Exclude<Shape, "fork-join">, where: Placement, sizes: Sizes): Promise<Rig<Count>> {
  if (shape === "ping-pong") return pingPong(where, sizes.pingPong, false, (ns) => ({ count: sizes.pingPong, ns }));
  if (shape === "thread-ring") return threadRing(where, sizes.ringAgents, sizes.ringHops);
  return counting(where, sizes.counting);
}

/**
 * A figure of `shape` on `where`: LocalSpace read against Erlang, each worker
 * placement against LocalSpace (for `threads: 1`, the targets). One `vs` a
 * figure: a placement against Erlang is the product of the two ratios.
 */
function specFor(shape: Shape, where: Placement, sizes: Sizes): FigureSpec {
  const { what, unit } = describeShape(shape, sizes, where);
  const spec: FigureSpec = { key: `${shape}-${where.key}`, label: `${where.label}: ${what}`, unit };
  if (where.key === "local") return { ...spec, vs: `erlang-${shape}` };
  // Fork-join with a thread per agent creates far fewer agents than the others: no like-for-like ratio.
  if (shape === "fork-join" && where.threadPerAgent) return spec;
  return { ...spec, vs: `${shape}-local` };
}

/**
 * Untimed runs before the timed ones where a shape runs at in-thread speed:
 * a run there takes tens of milliseconds, and the JIT needs about four of them
 * before it has settled (ping-pong in LocalSpace: 0.3, 0.6, 0.9, then 1.1 M
 * round trips/s). Erlang gets a warm run too (see bench/savina.erl).
 */
const IN_THREAD_WARMUPS = 5;

async function measure(ctx: Context, shape: Shape, where: Placement, sizes: Sizes): Promise<void> {
  const spec = specFor(shape, where, sizes);
  const repeat = { warmups: where.inThread ? IN_THREAD_WARMUPS : 1 };
  if (shape === "fork-join") {
    const n = where.threadPerAgent ? sizes.forkJoinOwn : sizes.forkJoin;
    await ctx.throughput(spec, () => forkJoin(where, n), repeat);
  } else {
    // A fresh space per figure, destroyed before the next.
    await withRig(rig(shape, where, sizes), (once) => ctx.throughput(spec, once, repeat));
  }
}

const SHAPES: Shape[] = ["ping-pong", "thread-ring", "counting", "fork-join"];

export const savina: Scenario = {
  name: "savina",
  group: "spaces",
  needs: ["round-trip"],
  description: "Savina's ping-pong, thread ring, counting and fork-join create, in each placement, beside Erlang",
  async run(ctx) {
    // Declared first, so that a run that fails part-way still prints each verdict (or "not measured").
    ctx.target({ figure: "ping-pong-threads-1", of: "ratio", atLeast: 0.5, text: "ping-pong, threads: 1 ≥ 0.5× LocalSpace's" });
    ctx.target({ figure: "thread-ring-threads-1", of: "ratio", atLeast: 0.5, text: "thread ring, threads: 1 ≥ 0.5× LocalSpace's" });
    ctx.target({ figure: "ping-pong-local", of: "ratio", atLeast: 0.5, text: "ping-pong, LocalSpace ≥ 0.5× Erlang's" });
    ctx.target({ figure: "thread-ring-local", of: "ratio", atLeast: 0.5, text: "thread ring, LocalSpace ≥ 0.5× Erlang's" });
    ctx.target({ figure: "counting-local", of: "ratio", atLeast: 0.4, text: "counting, LocalSpace ≥ 0.4× Erlang's" });
    ctx.target({ figure: "fork-join-local", of: "ratio", atLeast: 0.25, text: "fork-join create, LocalSpace ≥ 0.25× Erlang's" });
    ctx.target({ figure: "ping-pong-latency", of: "ratio", atMost: 1.3,
      text: "cross-thread ping-pong round trip p50 ≤ 1.3× the raw worker → main → worker → main → worker round trip" });
    const sizes: Sizes = {
      pingPong: ctx.size(40_000, 2_000),
      ringAgents: ctx.size(100, 8),
      ringHops: ctx.size(100_000, 5_000),
      counting: ctx.size(1_000_000, 20_000),
      forkJoin: ctx.size(40_000, 1_000),
      forkJoinOwn: ctx.size(64, 4),
      latency: ctx.size(5_000, 300),
    };

    const erlang = hasErlang() ? await ctx.repeat("Erlang (escript bench/savina.erl)", () => erlangRun(sizes)) : undefined;
    if (erlang === undefined) {
      ctx.note(NO_ERLANG);
    }
    for (const shape of SHAPES) {
      if (erlang !== undefined) {
        const { what, unit } = describeShape(shape, sizes);
        ctx.recordThroughput({ key: `erlang-${shape}`, label: `Erlang/OTP ${erlang[0]!.otp}: ${what}`, unit }, erlang.map((r) => r[shape]));
      }
      for (const where of PLACEMENTS) await measure(ctx, shape, where, sizes);
    }

    const own = PLACEMENTS.find((where) => where.threadPerAgent)!;
    await withRig(pingPong(own, sizes.latency, true, (_, samples) => samples), (once) =>
      ctx.latency({ key: "ping-pong-latency", label: `${own.label}: ping-pong round trip, a send each way, one at a time`, unit: "µs",
        vs: "round-trip/worker-main-worker" }, once),
    );

    ctx.note(
      "ping-pong: ping sends pong a plain send, pong sends one back to its `from`, one in flight; thread ring: RingNode agents " +
        "passing a plain send on; counting: a Sender agent sends in one synchronous loop, so the counter (a Sink) is given a " +
        `mailboxSize of N + ${MAILBOX_SLACK} (policy "reject", as by default), then requests the total, checked to be N; ` +
        "throughput timed from the foreground request or send that starts a run to the answer or message that ends it",
    );
    ctx.note(
      `fork-join create: a fresh space per run; ${thousands(ADD_BATCH)} adds at once, each agent sent one message as soon as its add ` +
        "resolves, timed until every agent's \"finished\" is back in this thread; shared threads are started before the timing by one " +
        "resident agent each (Savina times creating actors, not a runtime's threads); with a thread per agent each add starts its " +
        `thread, so only ${thousands(sizes.forkJoinOwn)} agents`,
    );
    ctx.note(
      "ratios: LocalSpace to Erlang at the same sizes, each MultiprocessSpace placement to LocalSpace (one baseline a figure: " +
        "a placement against Erlang is its ratio times LocalSpace's); Erlang: each run a fresh `escript bench/savina.erl` in " +
        "compiled mode with the VM's default schedulers (one per core), each shape run once untimed and then timed inside the VM; " +
        `LocalSpace and threads: 1: ${IN_THREAD_WARMUPS} untimed runs before the timed ones (the JIT settles over about four), the other placements one`,
    );
    ctx.note(
      `ping-pong round trip: ${thousands(sizes.latency)} sequential round trips timed in ping's worker thread, p50 per run; ` +
        "against the raw round trip of the round-trip scenario, measured earlier in this run",
    );
  },
};
