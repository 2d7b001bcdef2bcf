/**
 * The worker-thread entry that hosts agents: one by default, many when the
 * space places several in one thread. The agents see only the thread's two
 * data ports (inbound, outbound); start and stop arrive over the worker's
 * own channel.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ATTACH, DELIVER, DETACH, PEER_GONE, type AgentLink, type LinkedAgent } from "../src/agent-link.js";
import { answerTo } from "../src/answer.js";
import { markedFor } from "../src/answer-mark.js";
import { BatchingPort } from "../src/batching-port.js";
import { AgentActivity } from "../src/activity.js";
import { serveControl } from "../src/control.js";
import type { ComputeRequest } from "../src/compute.js";
import { AgentNotFoundError, MessageValidationError, errorFromWire, errorToWire, withoutStack } from "../src/errors.js";
import { exportedClass } from "../src/exported-class.js";
import { isAnswer, type Message } from "../src/message.js";
import { deliverInOrder, swapInstance } from "../src/live/swap.js";
import {
  open,
  peerGoneReason,
  type ComputedItem,
  type Envelope,
  type HostControl,
  type HostData,
  type HostReload,
  type HostStart,
  type InboundItem,
  type PortBatch,
  type TakenItem,
} from "../src/protocol.js";

process.setSourceMapsEnabled(true);

const { inbound, outbound } = workerData as HostData;

interface Hosted {
  id: string;
  agent: LinkedAgent;
  spec: HostStart;
  /** While a reload swaps it: messages (answers excepted) waiting for the next instance. */
  waiting?: Message[];
  /** Set once its afterAdd succeeded. */
  running: boolean;
  /** Messages it took since the last report: the router keeps its mailbox bounded with them. */
  taken: number;
  /** Its loops and timers, once afterAdd succeeded (none for an agent without any). */
  activity?: AgentActivity;
}

const agents = new Map<string, Hosted>();
/** The agents whose `taken` is not yet reported. */
let untold: Hosted[] = [];

const outbox = new BatchingPort(outbound, {
  onUncloneable(item, error) {
    // Only a message can fail to clone; tell its sender here, in its own thread.
    if (item.kind !== "messages") return;
    for (const message of item.messages) {
      if (isAnswer(message)) continue;
      const reason = new MessageValidationError(`message to "${message.to}" cannot be cloned: ${String(error)}`);
      agents.get(message.from)?.agent[DELIVER](answerTo(message, message.to, false, reason));
    }
  },
  beforeFlush: takenReports,
  seal: true,
});

/** Flushed with each batch: one report per agent that took messages. */
function takenReports(): TakenItem[] {
  if (untold.length === 0) return [];
  const reports = untold.map((hosted): TakenItem => ({ kind: "taken", agent: hosted.id, count: hosted.taken }));
  for (const hosted of untold) hosted.taken = 0;
  untold = [];
  return reports;
}

/** Room in `id`'s mailbox that the router counted for messages this thread will never hand to it. */
function giveBack(hosted: Hosted | undefined, count: number): void {
  if (!hosted || count === 0) return;
  if (hosted.taken === 0) untold.push(hosted);
  hosted.taken += count;
  outbox.schedule();
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
        for (const message of item.messages) deliver(message);
        break;
      case "envelope":
        unseal(item);
        break;
      case "broadcast": {
        const hosted = agents.get(item.deliverTo);
        if (hosted) hand(hosted, item.message);
        break;
      }
      case "peer-gone": {
        const reason = peerGoneReason(item);
        for (const { agent } of agents.values()) agent[PEER_GONE](item.gone, reason);
        break;
      }
      case "computed":
        computed(item);
        break;
    }
  }
}

/**
 * Opens an envelope another thread sealed. The router vouched for its
 * sender, not for what is inside: a forged one is dropped whole, and the
 * room the router counted for it is given back.
 */
function unseal(envelope: Envelope): void {
  const messages = open(envelope);
  if (typeof messages === "string") {
    giveBack(agents.get(envelope.to), envelope.actions);
    report({ event: "dropped", from: envelope.from, why: `an envelope from "${envelope.from}" was dropped: ${messages}` });
    return;
  }
  for (const message of messages) deliver(message);
}

function deliver(message: Message): void {
  const hosted = agents.get(message.to);
  if (hosted) return hand(hosted, message);
  // Routed here just as its agent left this thread.
  if (isAnswer(message)) return;
  const reason = withoutStack(() => new AgentNotFoundError(`agent "${message.to}" has left`));
  outbox.pushMessage(answerTo(message, message.to, false, reason));
}

/** Into the agent, unless a reload holds its messages (answers still reach the old instance: its actions may await them). */
function hand(hosted: Hosted, message: Message): void {
  if (hosted.waiting && !isAnswer(message)) hosted.waiting.push(message);
  else hosted.agent[DELIVER](message);
}

function linkFor(hosted: Hosted): AgentLink {
  const { spec } = hosted;
  return {
    // On a broker, a plain send whose value the agent would not see says so: no [response] crosses the broker for it.
    post: spec.json ? (message) => outbox.pushMessage(markedFor(message, hosted.agent)) : (message) => outbox.pushMessage(message),
    reportError: (error) => report({ event: "error", error: errorToWire(error) }),
    requestTimeoutMs: spec.requestTimeoutMs,
    json: spec.json,
    debug: spec.debug !== false,
    taken: () => giveBack(hosted, 1),
    compute: (request) => compute(spec.id, request),
    // On the data port, behind the answer the agent sent just before.
    shutdown: () => outbox.push({ kind: "shutdown", agent: spec.id }),
  };
}

function startActivity(hosted: Hosted): void {
  const { agent, id } = hosted;
  if (!AgentActivity.any(agent)) return;
  hosted.activity = new AgentActivity(agent, {
    failed: (loop, error) => outbox.push({ kind: "failed", agent: id, loop: loop.name, of: loop.kind, error: errorToWire(error) }),
    changed: (loops, timers) => outbox.push({ kind: "activity", agent: id, loops, timers }),
  });
  hosted.activity.start();
}

/** How long a reload lets the old instance's loops take to stop. */
const RELOAD_STOP_MS = 10_000;

async function reload(next: HostReload): Promise<void> {
  const hosted = agents.get(next.id);
  if (!hosted?.running) throw new Error(`agent "${next.id}" is not running in this thread`);
  const module = (await import(next.moduleUrl)) as Record<string, unknown>;
  const Cls = exportedClass<new (id: string, init: unknown) => LinkedAgent>(module, next.className, next.moduleUrl);
  await swapInstance(hosted.agent, () => new Cls(next.id, hosted.spec.init), {
    hold: () => (hosted.waiting = []),
    resume: (agent, queued) => {
      const waiting = hosted.waiting ?? [];
      hosted.waiting = undefined;
      deliverInOrder(queued, waiting, (message) => agent[DELIVER](message));
    },
    stopActivity: async () => {
      await hosted.activity?.stop(RELOAD_STOP_MS);
      hosted.activity = undefined;
    },
    startActivity: () => startActivity(hosted),
    attach: (fresh) => {
      fresh[ATTACH](linkFor(hosted));
      hosted.agent = fresh;
    },
  });
}

const control: HostControl = {
  async start(spec: HostStart) {
    const module = (await import(spec.moduleUrl)) as Record<string, unknown>;
    const Cls = exportedClass<new (id: string, init: unknown) => LinkedAgent>(module, spec.className, spec.moduleUrl);
    const agent = new Cls(spec.id, spec.init);
    const hosted: Hosted = { id: spec.id, agent, spec, running: false, taken: 0 };
    agents.set(spec.id, hosted);
    agent[ATTACH](linkFor(hosted));
    outbox.push({ kind: "ready", agent: spec.id }); // before anything afterAdd sends: answers to it find it here
    try {
      await agent.afterAdd();
    } catch (error) {
      agents.delete(spec.id);
      agent[DETACH](error as Error);
      throw error;
    }
    hosted.running = true;
    startActivity(hosted);
  },

  reload,

  async stop(id: string) {
    const hosted = agents.get(id);
    try {
      // Loops first, then the goodbye. Their wait is bounded in the main thread,
      // which ends this thread if they ignore their signal.
      await hosted?.activity?.stop(Infinity);
      // An agent whose constructor or afterAdd failed was never added: nothing to say goodbye to.
      if (hosted?.running) await hosted.agent.beforeRemove();
    } catch (error) {
      // The agent leaves all the same: a failing goodbye must not keep its id taken.
      report({ event: "error", error: errorToWire(error) });
    } finally {
      agents.delete(id);
      hosted?.agent[DETACH](new AgentNotFoundError(`agent "${id}" was removed`));
      outbox.push({ kind: "ended", agent: id }); // after everything it sent: the router may now let go of it
      outbox.flush();
    }
  },
};

inbound.on("message", take);
const report = serveControl(parentPort!, control);
