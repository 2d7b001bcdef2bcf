import type { Message } from "./message.js";
import type { MessagePort } from "node:worker_threads";
import type { AgentStatus } from "./agent-link.js";
import type { WireError } from "./errors.js";

/**
 * What crosses a worker's two data ports. Control (start, stop, status)
 * travels apart, over the worker's own channel.
 */

/** Another agent left or crashed; sent in order with the messages before it. */
export interface PeerGoneNotice {
  gone: string;
  reason: WireError;
}

export type PortItem = Message | PeerGoneNotice;

/**
 * One `postMessage`: a batch, since structured clone per call dominates the
 * cost of a hop. An empty batch from a worker ends its outbound stream.
 */
export type PortBatch = PortItem[];

export function isPeerGone(item: PortItem): item is PeerGoneNotice {
  return (item as PeerGoneNotice).gone !== undefined;
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
