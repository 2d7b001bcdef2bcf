import type { MessagePort } from "node:worker_threads";
import type { AgentStatus } from "./agent-link.js";
import { AgentCrashedError, errorFromWire, errorToWire, type WireError } from "./errors.js";
import type { Message } from "./message.js";

/**
 * What crosses a worker's two data ports. Control (start, stop, status)
 * travels apart, over the worker's own channel.
 */

/** Another agent left or crashed; sent in order with the messages before it. */
export interface PeerGoneNotice {
  gone: string;
  reason: WireError;
}

/** From the worker: its agent took this many messages from its mailbox since the last report. */
export interface TakenReport {
  taken: number;
}

/** What goes into a worker. */
export type InboundItem = Message | PeerGoneNotice;
/** What comes out of a worker. */
export type OutboundItem = Message | TakenReport;
export type PortItem = InboundItem | OutboundItem;

/**
 * One `postMessage`: a batch, since structured clone per call dominates the
 * cost of a hop. An empty batch from a worker ends its outbound stream.
 */
export type PortBatch<Item extends PortItem = PortItem> = Item[];

export function isPeerGone(item: InboundItem): item is PeerGoneNotice {
  return (item as PeerGoneNotice).gone !== undefined;
}

export function isTakenReport(item: OutboundItem): item is TakenReport {
  return (item as TakenReport).taken !== undefined;
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
  start(spec: HostStart): Promise<void>;
  stop(): Promise<void>;
  status(): HostStatus;
}

export interface HostStatus extends AgentStatus {
  id: string;
}

/** What a worker receives as `workerData`. */
export interface HostData {
  inbound: MessagePort;
  outbound: MessagePort;
}
