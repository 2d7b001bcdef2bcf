/**
 * The worker-thread entry: one agent host (see AgentHost) for the agents the
 * space places in this thread (one by default, many with `threads`). They
 * see only the thread's two data ports (inbound, outbound); start and stop
 * arrive over the worker's own channel.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { LinkedAgent } from "../src/agent-link.js";
import { answerTo } from "../src/answer.js";
import { BatchingPort } from "../src/batching-port.js";
import type { ComputeRequest } from "../src/compute-request.js";
import { serveControl } from "../src/control.js";
import { AgentNotFoundError, MessageValidationError, errorFromWire, errorToWire, type WireError } from "../src/errors.js";
import { loadClass } from "../src/exported-class.js";
import { checkHeapRoom } from "../src/heap-room.js";
import { AgentHost } from "../src/host/agent-host.js";
import type { StateSink } from "../src/host/durable-state.js";
import { mapStacksLazily } from "../src/host/stack-map.js";
import { isAnswer, useIdPrefix } from "../src/message.js";
import { flushTraces, refreshTracing } from "../src/telemetry/tracing.js";
import { open, peerGoneReason, type ComputedItem, type Envelope, type HostControl, type HostData, type HostStart, type InboundItem, type PortBatch } from "../src/protocol.js";

const { inbound, outbound, settings, watching, idPrefix, timing } = workerData as HostData;
useIdPrefix(idPrefix);
if (settings.telemetry !== undefined) {
  // Before any agent: the SDK it registers must be there for their first message.
  try {
    await import(settings.telemetry);
  } catch (error) {
    throw new Error(`the telemetry module ${settings.telemetry} failed in a worker thread: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
refreshTracing();
mapStacksLazily();
let watched = watching;

const outbox = new BatchingPort(outbound, {
  onUncloneable(item, error) {
    // Only a message can fail to clone; tell its sender here, in its own thread.
    if (item.kind !== "messages") return;
    for (const message of item.messages) {
      if (isAnswer(message)) continue;
      const reason = new MessageValidationError(`message to "${message.to}" cannot be cloned: ${String(error)}`);
      host.get(message.from)?.deliver(answerTo(message, message.to, false, reason));
    }
  },
  seal: true,
});

const host = new AgentHost({
  ...settings,
  uplink: (message) => outbox.pushMessage(message),
  compute: (agent, request) => compute(agent.id, request),
  watched: () => watched,
  observe: (message) => outbox.pushSeen(message),
  failed: (id, error) => outbox.push({ kind: "failed", agent: id, loop: error.loop, of: error.kind, error: errorToWire(error.cause) }),
  // On the data port, behind the answer the agent sent just before.
  shutdown: (id) => outbox.push({ kind: "shutdown", agent: id }),
  reportError: (error) => report({ event: "error", error: errorToWire(error) }),
  handBack: (message) => outbox.push({ kind: "handed-back", agent: message.to, messages: [message] }),
});

host.durations.timing = timing;

/** The chunks of counts the main thread has handed this thread (see counters.ts). */
const chunks: Float64Array[] = [];

function countsOf({ counts: { chunk, buffer, at } }: HostStart): { values: Float64Array; at: number } {
  if (buffer) chunks[chunk] = new Float64Array(buffer);
  return { values: chunks[chunk]!, at };
}

/**
 * Of what each agent was started with, what a later instance needs: its init
 * (a reload makes the next instance from it) and a durable agent's state as
 * handed over. Not the whole start: its strings and objects are a copy per
 * agent, and a swarm has a million.
 */
const starts = new Map<string, { init: unknown; state: string | undefined }>();

/** Where this thread's durable agents keep their states (see HostSettings.durable), made for the first one. */
let stateSink: StateSink | undefined;

async function durableSink(): Promise<StateSink> {
  if (stateSink) return stateSink;
  const where = settings.durable;
  if (where === "up") {
    stateSink = {
      // The main thread read it from the broker with the id's lease, and hands it over with each start.
      claim: (id) => starts.get(id)?.state,
      // Up the data port, just before the answer it must precede; an unchanged state needs no write.
      write: (id, state, changed, handled) => {
        if (changed) outbox.push(handled ? { kind: "state", agent: id, of: handled.meta.id, state } : { kind: "state", agent: id, state });
        return true;
      },
    };
  } else if (where) {
    // Loaded only where a durable agent runs: a thread without one never opens SQLite.
    const { StateFile } = await import("../src/state-file.js");
    stateSink = StateFile.open(where.file).sink(where.holder);
  } else {
    throw new Error("this space keeps no states: a durable agent needs a store");
  }
  return stateSink;
}

/** Compute calls sent to the space's CPU pool, awaiting their results. */
const computing = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let computeSeq = 0;

function compute(agent: string, request: ComputeRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const seq = ++computeSeq;
    computing.set(seq, { resolve, reject });
    outbox.push({ kind: "compute", seq, agent, request });
  });
}

function computed(result: ComputedItem): void {
  const waiting = computing.get(result.seq);
  computing.delete(result.seq);
  if (result.ok) waiting?.resolve(result.value);
  else waiting?.reject(errorFromWire({ ...result.error }));
}

function take(batch: PortBatch<InboundItem>): void {
  for (const item of batch) {
    switch (item.kind) {
      case "messages":
        for (const message of item.messages) host.deliver(message);
        break;
      case "envelope":
        unseal(item);
        break;
      case "broadcast":
        host.get(item.deliverTo)?.deliver(item.message);
        break;
      case "peer-gone":
        host.get(item.deliverTo)?.peerGone(item.gone, peerGoneReason(item));
        break;
      case "computed":
        computed(item);
        break;
      case "connected":
        // From here on in the stream its thread-mates' messages stay in this thread, held until "direct".
        if (host.connected(item.agent)) outbox.push({ kind: "local", agent: item.agent });
        break;
      case "direct":
        host.direct(item.agent);
        break;
      case "watch":
        watched = item.on;
        break;
    }
  }
}

/**
 * Opens an envelope another thread sealed. The router vouched for its
 * sender, not for what is inside: a forged one is dropped whole.
 */
function unseal(envelope: Envelope): void {
  const messages = open(envelope);
  if (typeof messages === "string") {
    report({ event: "dropped", from: envelope.from, why: `an envelope from "${envelope.from}" was dropped: ${messages}` });
    return;
  }
  for (const message of messages) host.deliver(message);
}

async function construct(id: string, moduleUrl: string, className: string): Promise<() => LinkedAgent> {
  const Cls = await loadClass<new (id: string, init: unknown) => LinkedAgent>(moduleUrl, className);
  return () => new Cls(id, starts.get(id)?.init);
}

const control: HostControl = {
  async start(spec: HostStart) {
    if (!starts.has(spec.id)) checkHeapRoom("its worker thread", starts.size);
    refreshTracing();
    starts.set(spec.id, { init: spec.init, state: spec.durable?.state });
    let agent = host.get(spec.id);
    if (!agent) {
      const durable = spec.durable ? await durableSink() : undefined;
      agent = host.place({ id: spec.id, mailbox: spec.mailbox, counts: countsOf(spec), trusted: false, local: false, durable });
      // Before anything afterAdd sends: the router holds what comes for it until now, and passes it on from here.
      outbox.push({ kind: "ready", agent: spec.id });
    }
    await agent.start(await construct(spec.id, spec.moduleUrl, spec.className));
  },

  async retire(id: string) {
    // Its loops' wait is bounded in the main thread, which ends this thread if they ignore their signal.
    await host.get(id)?.retire(undefined, Infinity);
  },

  async reload(next) {
    const agent = host.get(next.id);
    if (!agent) throw new AgentNotFoundError(`agent "${next.id}" is not in this thread`);
    await agent.swap(await construct(next.id, next.moduleUrl, next.className));
  },

  async durations() {
    host.durations.timing = true;
    return host.durations.rows();
  },

  flushTraces,

  async stop(id: string, reason: WireError) {
    try {
      // Loops first, then the goodbye. Their wait is bounded in the main thread,
      // which ends this thread if they ignore their signal.
      await host.stop(id, errorFromWire({ ...reason }), Infinity);
    } finally {
      starts.delete(id);
      outbox.push({ kind: "ended", agent: id }); // after everything it sent: the router may now let go of it
      outbox.flush();
    }
  },
};

inbound.on("message", take);
const report = serveControl(parentPort!, control);
