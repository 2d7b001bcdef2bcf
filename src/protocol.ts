import { deserialize, serialize } from "node:v8";
import type { MessagePort } from "node:worker_threads";
import type { AgentStatus } from "./agent-link.js";
import { AgentCrashedError, errorFromWire, errorToWire, type WireError } from "./errors.js";
import type { ComputeRequest } from "./compute.js";
import { ERROR, RESPONSE, type Message } from "./message.js";

/**
 * What crosses a worker's two data ports. Control (start, stop, status)
 * travels apart, over the worker's own channel.
 */

/**
 * What crosses a worker thread's two data ports. A thread may host many
 * agents: a direct message names its agent in `to`; a broadcast comes
 * wrapped once per agent it is for.
 */

/** A `"*"` message for one agent of the thread. */
export interface BroadcastDelivery {
  deliverTo: string;
  message: Message;
}

/** Another agent left or crashed (for every agent of the thread); in order with the messages before it. */
export interface PeerGoneNotice {
  gone: string;
  reason: WireError;
}

/** From the thread: `agent` took this many messages from its mailbox since the last report. */
export interface TakenReport {
  taken: number;
  agent: string;
}

/** From the thread: `ready` is constructed and takes messages (until then the router holds them). */
export interface AgentReady {
  ready: string;
}

/** From the thread, after `stop(agent)`: nothing more will come from that agent. */
export interface StreamEnd {
  ended: string;
}

/** From the thread: `agent` asks the space's CPU pool for `request`; answered by a ComputeResult. */
export interface ComputeCall {
  compute: number;
  agent: string;
  request: ComputeRequest;
}

/** Into the thread: how ComputeCall `computed` ended. */
export interface ComputeResult {
  computed: number;
  ok: boolean;
  value?: unknown;
  error?: WireError;
}

/**
 * Messages from one agent to one other, serialized in the sender's thread:
 * the router forwards the bytes to the receiver's thread without opening them,
 * so a message pays one serialization instead of two (see `Envelope` use in
 * `router.ts`). A flush sends a group this way only when it is large enough
 * to pay for the envelope.
 */
export interface Envelope {
  /** The receiver. */
  envelope: string;
  from: string;
  /** Messages inside; `actions` of them are not answers (they count against the mailbox bound). */
  size: number;
  actions: number;
  /** `[error]` answers inside, for the sender's stats. */
  errors: number;
  bytes: ArrayBuffer;
}

export type InboundItem = Message | BroadcastDelivery | PeerGoneNotice | ComputeResult | Envelope;
export type OutboundItem = Message | TakenReport | AgentReady | StreamEnd | ComputeCall | Envelope;
export type PortItem = InboundItem | OutboundItem;

/** One `postMessage`: a batch, since structured clone per call dominates the cost of a hop. */
export type PortBatch<Item extends PortItem = PortItem> = Item[];

export function isPeerGone(item: InboundItem): item is PeerGoneNotice {
  return (item as PeerGoneNotice).gone !== undefined;
}

export function isEnvelope(item: PortItem): item is Envelope {
  return (item as Envelope).envelope !== undefined;
}

/** Seals `messages` (all from `from` to `to`) into an envelope. */
export function seal(from: string, to: string, messages: Message[]): Envelope {
  let actions = 0;
  let errors = 0;
  for (const message of messages) {
    const name = message.action.name;
    if (name === ERROR) errors++;
    else if (name !== RESPONSE) actions++;
  }
  const { buffer } = serialize(messages);
  return { envelope: to, from, size: messages.length, actions, errors, bytes: buffer as ArrayBuffer };
}

export function open(envelope: Envelope): Message[] {
  return deserialize(new Uint8Array(envelope.bytes)) as Message[];
}

export function isComputeResult(item: InboundItem): item is ComputeResult {
  return (item as ComputeResult).computed !== undefined;
}

export function isComputeCall(item: OutboundItem): item is ComputeCall {
  return (item as ComputeCall).compute !== undefined;
}

export function isBroadcastDelivery(item: InboundItem): item is BroadcastDelivery {
  return (item as BroadcastDelivery).deliverTo !== undefined;
}

export function isTakenReport(item: OutboundItem): item is TakenReport {
  return (item as TakenReport).taken !== undefined;
}

export function isAgentReady(item: OutboundItem): item is AgentReady {
  return (item as AgentReady).ready !== undefined;
}

export function isStreamEnd(item: OutboundItem): item is StreamEnd {
  return (item as StreamEnd).ended !== undefined;
}

export function peerGoneNotice(peerId: string, reason: Error): PeerGoneNotice {
  return { gone: peerId, reason: errorToWire(reason) };
}

/** The notice's reason as the typed error it was sent as. */
export function peerGoneReason(notice: PeerGoneNotice): Error {
  const error = errorFromWire({ ...notice.reason });
  if (!notice.reason.error.startsWith(`${AgentCrashedError.name}: `)) return error;
  return new AgentCrashedError(notice.gone, notice.reason.error.slice(AgentCrashedError.name.length + 2));
}

/** What a worker host is told when it starts. */
export interface HostStart {
  /** file: URL of the bundled agent module. */
  moduleUrl: string;
  className: string;
  id: string;
  init: unknown;
  requestTimeoutMs: number;
  debug: boolean;
}

/** The worker host's control surface, called over the worker's own channel. */
export interface HostControl {
  /** Constructs an agent in the thread and runs its `afterAdd`. */
  start(spec: HostStart): Promise<void>;
  /** Runs the agent's `beforeRemove` and takes it out of the thread. */
  stop(id: string): Promise<void>;
  status(id: string): HostStatus;
}

export interface HostStatus extends AgentStatus {
  id: string;
}

/** What a worker receives as `workerData`. */
export interface HostData {
  inbound: MessagePort;
  outbound: MessagePort;
}
