/**
 * The worker-thread entry that hosts agents: one by default, many when the
 * space places several in one thread. The agents see only the thread's two
 * data ports (inbound, outbound); start and stop arrive over the worker's
 * own channel.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ATTACH, DELIVER, DETACH, PEER_GONE, STATUS, type LinkedAgent } from "../src/agent-link.js";
import { answerTo } from "../src/answer.js";
import { BatchingPort } from "../src/batching-port.js";
import { serveControl } from "../src/control.js";
import type { ComputeRequest } from "../src/compute.js";
import { AgentNotFoundError, MessageValidationError, errorFromWire, errorToWire, withoutStack } from "../src/errors.js";
import { exportedClass } from "../src/exported-class.js";
import { isAnswer, type Message } from "../src/message.js";
import {
  isBroadcastDelivery,
  isComputeResult,
  isEnvelope,
  isPeerGone,
  open,
  peerGoneReason,
  type HostControl,
  type HostData,
  type ComputeResult,
  type HostStart,
  type InboundItem,
  type PortBatch,
  type TakenReport,
} from "../src/protocol.js";

process.setSourceMapsEnabled(true);

const { inbound, outbound } = workerData as HostData;

interface Hosted {
  id: string;
  agent: LinkedAgent;
  /** Set once its afterAdd succeeded. */
  running: boolean;
  /** Messages it took since the last report: the router keeps its mailbox bounded with them. */
  taken: number;
}

const agents = new Map<string, Hosted>();
/** The agents whose `taken` is not yet reported. */
let untold: Hosted[] = [];

const outbox = new BatchingPort(outbound, {
  onUncloneable(item, error) {
    // Only a message can fail to clone; tell its sender here, in its own thread.
    const message = item as Message;
    if (!isAnswer(message)) {
      const reason = new MessageValidationError(`message to "${message.to}" cannot be cloned: ${String(error)}`);
      agents.get(message.from)?.agent[DELIVER](answerTo(message, message.to, false, reason));
    }
  },
  beforeFlush: takenReports,
  seal: true,
});

/** Flushed with each batch: one report per agent that took messages. */
function takenReports(): TakenReport[] {
  if (untold.length === 0) return [];
  const reports = untold.map((hosted): TakenReport => ({ agent: hosted.id, taken: hosted.taken }));
  for (const hosted of untold) hosted.taken = 0;
  untold = [];
  return reports;
}

/** Compute calls sent to the space's CPU pool, awaiting their results. */
const computing = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
let computeSeq = 0;

function compute(agent: string, request: ComputeRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const seq = ++computeSeq;
    computing.set(seq, { resolve, reject });
    outbox.push({ compute: seq, agent, request });
  });
}

function computed(result: ComputeResult): void {
  const waiting = computing.get(result.computed);
  computing.delete(result.computed);
  if (result.ok) waiting?.resolve(result.value);
  else waiting?.reject(errorFromWire({ ...result.error }));
}

function take(batch: PortBatch<InboundItem>): void {
  for (const item of batch) {
    if (isComputeResult(item)) {
      computed(item);
    } else if (isPeerGone(item)) {
      const reason = peerGoneReason(item);
      for (const { agent } of agents.values()) agent[PEER_GONE](item.gone, reason);
    } else if (isEnvelope(item)) {
      for (const message of open(item)) deliver(message);
    } else if (isBroadcastDelivery(item)) {
      agents.get(item.deliverTo)?.agent[DELIVER](item.message);
    } else {
      deliver(item);
    }
  }
}

function deliver(message: Message): void {
  const hosted = agents.get(message.to);
  if (hosted) return hosted.agent[DELIVER](message);
  // Routed here just as its agent left this thread.
  if (isAnswer(message)) return;
  const reason = withoutStack(() => new AgentNotFoundError(`agent "${message.to}" has left`));
  outbox.push(answerTo(message, message.to, false, reason));
}

const control: HostControl = {
  async start(spec: HostStart) {
    const module = (await import(spec.moduleUrl)) as Record<string, unknown>;
    const Cls = exportedClass<new (id: string, init: unknown) => LinkedAgent>(module, spec.className, spec.moduleUrl);
    const agent = new Cls(spec.id, spec.init);
    const hosted: Hosted = { id: spec.id, agent, running: false, taken: 0 };
    agents.set(spec.id, hosted);
    agent[ATTACH]({
      post: (message) => outbox.push(message),
      reportError: (error) => report({ event: "error", error: errorToWire(error) }),
      requestTimeoutMs: spec.requestTimeoutMs,
      debug: spec.debug,
      taken: () => {
        if (hosted.taken++ === 0) untold.push(hosted);
        outbox.schedule();
      },
      compute: (request) => compute(spec.id, request),
    });
    outbox.push({ ready: spec.id }); // before anything afterAdd sends: answers to it find it here
    try {
      await agent.afterAdd();
    } catch (error) {
      agents.delete(spec.id);
      agent[DETACH](error as Error);
      throw error;
    }
    hosted.running = true;
  },

  async stop(id: string) {
    const hosted = agents.get(id);
    try {
      // An agent whose constructor or afterAdd failed was never added: nothing to say goodbye to.
      if (hosted?.running) await hosted.agent.beforeRemove();
    } finally {
      agents.delete(id);
      hosted?.agent[DETACH](new AgentNotFoundError(`agent "${id}" was removed`));
      outbox.push({ ended: id }); // after everything it sent: the router may now let go of it
      outbox.flush();
    }
  },

  status(id: string) {
    const hosted = agents.get(id);
    if (!hosted) throw new AgentNotFoundError(`no agent "${id}" in this thread`);
    return { id, ...hosted.agent[STATUS]() };
  },
};

inbound.on("message", take);
const report = serveControl(parentPort!, control);
