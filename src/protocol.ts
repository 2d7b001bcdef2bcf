import { deserialize, serialize } from "node:v8";
import type { MessagePort } from "node:worker_threads";
import { namesDebugAction, type DebugMode } from "./debug-gate.js";
import { AgentCrashedError, errorFromWire, errorToWire, type WireError } from "./errors.js";
import type { ComputeRequest } from "./compute.js";
import { ERROR, RESPONSE, isAnswer, messageProblem, type Message } from "./message.js";

/**
 * What crosses a worker thread's two data ports, tagged by `kind` (control,
 * start and stop, travels apart over the worker's own channel). A thread may
 * host many agents: a direct message names its agent in `to`; a broadcast
 * comes wrapped once per agent it is for.
 *
 * The main thread trusts nothing that comes out of a worker: agent code can
 * reach the thread's ports. `outboundProblem` checks each item's shape at
 * the boundary; the worker thread then checks that its agents may send it.
 */

/** A run of messages, in order: one tag for the run, not one per message. */
export interface MessagesItem {
  kind: "messages";
  messages: Message[];
}

/** A `"*"` message for one agent of the thread. */
export interface BroadcastItem {
  kind: "broadcast";
  deliverTo: string;
  message: Message;
}

/** Another agent left or crashed (for every agent of the thread); in order with the messages before it. */
export interface PeerGoneItem {
  kind: "peer-gone";
  gone: string;
  reason: WireError;
}

/** From the thread: `agent` took `count` messages from its mailbox since the last report. */
export interface TakenItem {
  kind: "taken";
  agent: string;
  count: number;
}

/** From the thread: `agent` is constructed and takes messages (until then the router holds them). */
export interface ReadyItem {
  kind: "ready";
  agent: string;
}

/** From the thread, after `stop(agent)`: nothing more will come from that agent. */
export interface EndedItem {
  kind: "ended";
  agent: string;
}

/** From the thread: `agent` asks the space's CPU pool for `request`; answered by a ComputedItem. */
export interface ComputeItem {
  kind: "compute";
  seq: number;
  agent: string;
  request: ComputeRequest;
}

/** Into the thread: how ComputeItem `seq` ended. */
export interface ComputedItem {
  kind: "computed";
  seq: number;
  ok: boolean;
  value?: unknown;
  error?: WireError;
}

/**
 * Messages from one agent to one other, serialized in the sender's thread:
 * the router forwards the bytes to the receiver's thread without opening them,
 * so a message pays one serialization instead of two. The router vouches for
 * `from` (an agent of the sending thread); whoever opens it checks that every
 * message inside is from `from` to `to`, names no debug action, and that
 * `actions` is their count.
 */
export interface Envelope {
  kind: "envelope";
  to: string;
  from: string;
  /** Messages inside; `actions` of them are not answers (they count against the mailbox bound). */
  size: number;
  actions: number;
  /** `[error]` answers inside, for the sender's stats. */
  errors: number;
  bytes: ArrayBuffer;
}

/** From the thread: `agent`'s loops and timers running now (sent when either count changes). */
export interface ActivityItem {
  kind: "activity";
  agent: string;
  loops: number;
  timers: number;
}

/** From the thread: a loop or timer of `agent` threw; the agent has failed (its restart policy decides what follows). */
export interface FailedItem {
  kind: "failed";
  agent: string;
  loop: string;
  of: "loop" | "timer";
  error: WireError;
}

/** From the thread: `agent` called `shutdown()` (after sending its last answer): remove it for good. */
export interface ShutdownItem {
  kind: "shutdown";
  agent: string;
}

export type InboundItem = MessagesItem | BroadcastItem | PeerGoneItem | ComputedItem | Envelope;
export type OutboundItem =
  | MessagesItem
  | TakenItem
  | ReadyItem
  | EndedItem
  | ComputeItem
  | Envelope
  | ActivityItem
  | FailedItem
  | ShutdownItem;
export type PortItem = InboundItem | OutboundItem;

/** One `postMessage`: a batch, since structured clone per call dominates the cost of a hop. */
export type PortBatch<Item extends PortItem = PortItem> = Item[];

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
  return { kind: "envelope", to, from, size: messages.length, actions, errors, bytes: buffer as ArrayBuffer };
}

/**
 * The envelope's messages, or why it must be dropped whole: bytes that do not
 * deserialize, a message of the wrong shape, or one not from `from` to `to`,
 * or a count of actions that is not what it says (the mailbox bound trusts it).
 */
export function open(envelope: Envelope): Message[] | string {
  let messages: unknown;
  try {
    messages = deserialize(new Uint8Array(envelope.bytes));
  } catch (error) {
    return `its bytes do not deserialize (${String(error)})`;
  }
  if (!Array.isArray(messages) || messages.length !== envelope.size) return "it does not hold the messages it counts";
  let actions = 0;
  for (const message of messages) {
    const problem = messageProblem(message);
    if (problem) return problem;
    if (message.from !== envelope.from || message.to !== envelope.to) return "a message inside is not from its sender to its receiver";
    // Never sealed by a worker: the router must see who calls them (see `debugRefusal`).
    if (namesDebugAction(message)) return `a message inside names the debug action "${message.action.name}"`;
    if (!isAnswer(message)) actions++;
  }
  if (actions !== envelope.actions) return `it counts ${envelope.actions} actions but holds ${actions}`;
  return messages as Message[];
}

/** The wire form of another agent's departure. */
export function peerGone(peerId: string, reason: Error): PeerGoneItem {
  return { kind: "peer-gone", gone: peerId, reason: errorToWire(reason) };
}

/** The notice's reason as the typed error it was sent as. */
export function peerGoneReason(notice: PeerGoneItem): Error {
  const error = errorFromWire({ ...notice.reason });
  if (!notice.reason.error.startsWith(`${AgentCrashedError.name}: `)) return error;
  return new AgentCrashedError(notice.gone, notice.reason.error.slice(AgentCrashedError.name.length + 2));
}

/**
 * Why `item`, read from a worker's outbound port, is not an outbound item of
 * the right shape, or undefined. Messages inside a run are checked one by
 * one by the receiver of the run (`messageProblem`).
 */
export function outboundProblem(item: unknown): string | undefined {
  if (typeof item !== "object" || item === null) return `an item must be an object, got ${item === null ? "null" : typeof item}`;
  const { kind } = item as { kind?: unknown };
  const fields = item as Record<string, unknown>;
  switch (kind) {
    case "messages":
      return Array.isArray(fields.messages) ? undefined : `a "messages" item must hold an array`;
    case "taken":
      return isName(fields.agent) && Number.isSafeInteger(fields.count) && (fields.count as number) > 0
        ? undefined
        : `a "taken" item needs an agent and a positive whole count`;
    case "ready":
    case "ended":
    case "shutdown":
      return isName(fields.agent) ? undefined : `a "${kind}" item needs an agent`;
    case "compute":
      return isName(fields.agent) && Number.isSafeInteger(fields.seq) && typeof fields.request === "object" && fields.request !== null
        ? undefined
        : `a "compute" item needs an agent, a seq and a request`;
    case "activity":
      return isName(fields.agent) && isCount(fields.loops) && isCount(fields.timers)
        ? undefined
        : `an "activity" item needs an agent and two counts`;
    case "failed":
      return isName(fields.agent) && isName(fields.loop) && (fields.of === "loop" || fields.of === "timer") && isWireError(fields.error)
        ? undefined
        : `a "failed" item needs an agent, a loop, its kind and an error`;
    case "envelope":
      return isName(fields.from) &&
        isName(fields.to) &&
        Number.isSafeInteger(fields.size) &&
        Number.isSafeInteger(fields.actions) &&
        Number.isSafeInteger(fields.errors) &&
        (fields.actions as number) >= 0 &&
        fields.bytes instanceof ArrayBuffer
        ? undefined
        : `an "envelope" item needs from, to, counts and bytes`;
    default:
      return `unknown item kind ${typeof kind === "string" ? `"${kind.slice(0, 40)}"` : typeof kind}`;
  }
}

function isName(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isWireError(value: unknown): value is WireError {
  if (typeof value !== "object" || value === null) return false;
  const { error, stack } = value as Record<string, unknown>;
  return typeof error === "string" && (stack === undefined || typeof stack === "string");
}

/** What a worker host is told when it starts an agent. */
export interface HostStart {
  /** file: URL of the bundled agent module. */
  moduleUrl: string;
  className: string;
  id: string;
  init: unknown;
  requestTimeoutMs: number;
  debug: DebugMode;
  /** Messages travel as JSON (a broker space): see `AgentLink.json`. */
  json: boolean;
}

/** The worker host's control surface, called over the worker's own channel. */
export interface HostControl {
  /** Constructs an agent in the thread and runs its `afterAdd`. */
  start(spec: HostStart): Promise<void>;
  /**
   * Runs the agent's `beforeRemove` and takes it out of the thread. Always
   * takes it out: a `beforeRemove` that throws is reported, not rethrown.
   */
  stop(id: string): Promise<void>;
  /**
   * Live reload: swaps the running agent for an instance of the class's new
   * version (see `swapInstance`); rejects, leaving the old one serving, if
   * the new one fails to start.
   */
  reload(spec: HostReload): Promise<void>;
}

/** What a worker host is told when an agent's class is reloaded. */
export interface HostReload {
  id: string;
  /** file: URL of the new bundle (unique per build). */
  moduleUrl: string;
  className: string;
}

/** What a worker receives as `workerData`. */
export interface HostData {
  inbound: MessagePort;
  outbound: MessagePort;
}
