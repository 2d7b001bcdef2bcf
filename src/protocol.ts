import type { DurationRow } from "./telemetry/durations.js";
import type { MessagePort } from "node:worker_threads";
import { namesDebugAction, type DebugMode } from "./debug-gate.js";
import { AgentCrashedError, errorFromWire, type WireError } from "./errors.js";
import type { ComputeRequest } from "./compute-request.js";
import type { MailboxOptions } from "./host/mailbox.js";
import { isAnswer, messageProblem, type Message } from "./message.js";
import { lazily } from "./node-builtin.js";

/** Loaded with the first envelope: most threads seal none. */
const v8 = lazily<typeof import("node:v8")>("node:v8");

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

/** Agent `gone` left or crashed: `deliverTo` asked it something; in order with the messages before it. */
export interface PeerGoneItem {
  kind: "peer-gone";
  deliverTo: string;
  gone: string;
  reason: WireError;
}

/**
 * From the thread: `agent` is placed (its mailbox holds what comes). The
 * first leg of the fence (see AgentHost): the router answers with
 * ConnectedItem once everything routed to it before has been passed on.
 */
export interface ReadyItem {
  kind: "ready";
  agent: string;
}

/** Into the thread: the router passes `agent`'s messages on from now on; its thread-mates hold theirs for it from here (the second leg). */
export interface ConnectedItem {
  kind: "connected";
  agent: string;
}

/**
 * From the thread: its thread-mates' messages and broadcasts to `agent` stay
 * there from this point in the stream on (the router leaves it out of their
 * broadcasts); the router answers with DirectItem behind those it still passes back.
 */
export interface LocalItem {
  kind: "local";
  agent: string;
}

/** Into the thread: everything thread-mates sent `agent` through the router has come back; what they held for it is delivered, and they deliver directly from now on. */
export interface DirectItem {
  kind: "direct";
  agent: string;
}

/** Into the thread: whether a `message` listener watches the space (then messages between thread-mates are reported as SeenItems). */
export interface WatchItem {
  kind: "watch";
  on: boolean;
}

/** From the thread, while watched: messages its agents handed each other directly, for the space's `message` listeners. */
export interface SeenItem {
  kind: "seen";
  messages: Message[];
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
  /** Messages inside; `actions` of them are not answers (the router records that `from` asked `to`). */
  size: number;
  actions: number;
  bytes: ArrayBuffer;
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

/**
 * From the thread, before the answer to `of` (same batch, same order): a
 * durable agent's state after it handled message `of` (none: an answer), to be
 * written with that message's acknowledgement (a broker space keeps states
 * next to its mailboxes).
 */
export interface StateItem {
  kind: "state";
  agent: string;
  of?: string;
  state: string;
}

/**
 * From the thread: messages that waited for `agent` as it passivated (in its
 * mailbox), handed back to wait in the router for its next activation. Taken
 * only while the router holds that id, and only messages to it.
 */
export interface HandedBackItem {
  kind: "handed-back";
  agent: string;
  messages: Message[];
}

export type InboundItem = MessagesItem | BroadcastItem | PeerGoneItem | ComputedItem | Envelope | ConnectedItem | DirectItem | WatchItem;
export type OutboundItem =
  | MessagesItem
  | ReadyItem
  | LocalItem
  | EndedItem
  | ComputeItem
  | Envelope
  | FailedItem
  | ShutdownItem
  | SeenItem
  | StateItem
  | HandedBackItem;
export type PortItem = InboundItem | OutboundItem;

/** One `postMessage`: a batch, since structured clone per call dominates the cost of a hop. */
export type PortBatch<Item extends PortItem = PortItem> = Item[];

/** Seals `messages` (all from `from` to `to`) into an envelope. */
export function seal(from: string, to: string, messages: Message[]): Envelope {
  let actions = 0;
  for (const message of messages) if (!isAnswer(message)) actions++;
  const { buffer } = v8().serialize(messages);
  return { kind: "envelope", to, from, size: messages.length, actions, bytes: buffer as ArrayBuffer };
}

/**
 * The envelope's messages, or why it must be dropped whole: bytes that do not
 * deserialize, a message of the wrong shape, or one not from `from` to `to`,
 * or a count of actions that is not what it says (the mailbox bound trusts it).
 */
export function open(envelope: Envelope): Message[] | string {
  let messages: unknown;
  try {
    messages = v8().deserialize(new Uint8Array(envelope.bytes));
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
    case "seen":
      return Array.isArray(fields.messages) ? undefined : `a "${kind}" item must hold an array`;
    case "ready":
    case "local":
    case "ended":
    case "shutdown":
      return isName(fields.agent) ? undefined : `a "${kind}" item needs an agent`;
    case "compute":
      return isName(fields.agent) && Number.isSafeInteger(fields.seq) && typeof fields.request === "object" && fields.request !== null
        ? undefined
        : `a "compute" item needs an agent, a seq and a request`;
    case "failed":
      return isName(fields.agent) && isName(fields.loop) && (fields.of === "loop" || fields.of === "timer") && isWireError(fields.error)
        ? undefined
        : `a "failed" item needs an agent, a loop, its kind and an error`;
    case "handed-back":
      return isName(fields.agent) && Array.isArray(fields.messages) ? undefined : `a "handed-back" item needs an agent and an array of messages`;
    case "state":
      return isName(fields.agent) && typeof fields.state === "string" && (fields.of === undefined || isName(fields.of))
        ? undefined
        : `a "state" item needs an agent, its state as text, and the id of the message it handled (or none)`;
    case "envelope":
      return isName(fields.from) &&
        isName(fields.to) &&
        Number.isSafeInteger(fields.size) &&
        Number.isSafeInteger(fields.actions) &&
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

function isWireError(value: unknown): value is WireError {
  if (typeof value !== "object" || value === null) return false;
  const { error, stack } = value as Record<string, unknown>;
  return typeof error === "string" && (stack === undefined || typeof stack === "string");
}

/** How a worker's host runs, the same for every agent of its space (see HostOptions). */
export interface HostSettings {
  localDelivery: boolean;
  errorsOnly: "always" | "unwatched";
  dropUnwantedAnswers: boolean;
  requestTimeoutMs: number;
  debug: DebugMode;
  /** Messages travel as JSON (a broker space): see `AgentLink.json`. */
  json: boolean;
  /**
   * Where durable agents keep their states: a SQLite file that each thread
   * opens and writes as `holder`, or `"up"`: sent to the main thread, which
   * writes them with the acknowledgements (a broker space). None: the space
   * keeps no states (it refuses durable agents).
   */
  durable?: { file: string; holder: string } | "up";
  /** file: URL of the module the thread imports before any agent (SpaceOptions.telemetry). */
  telemetry?: string;
}

/** What a worker host is told when it starts an agent. */
export interface HostStart {
  /** file: URL of the bundled agent module. */
  moduleUrl: string;
  className: string;
  id: string;
  init: unknown;
  mailbox: MailboxOptions;
  /** Where it keeps its counts (see counters.ts): a chunk of the thread's (its buffer, the first time the thread is given that chunk), and its index there. */
  counts: { chunk: number; buffer?: SharedArrayBuffer; at: number };
  /** A durable agent; with `durable: "up"` its last written state (JSON text, none the first time) comes here. */
  durable?: { state?: string | undefined };
}

/** The worker host's control surface, called over the worker's own channel. */
export interface HostControl {
  /**
   * Places the agent (once: a restart keeps its mailbox), constructs an
   * instance and runs its `afterAdd`; rejects if either throws (the place stays, holding).
   */
  start(spec: HostStart): Promise<void>;
  /** Stops the agent's failed instance (loops, then `beforeRemove`) and keeps its mailbox for the next. */
  retire(id: string): Promise<void>;
  /**
   * Runs the agent's `beforeRemove` and takes it out of the thread, what
   * waits for it refused with `reason`. Always takes it out: a
   * `beforeRemove` that throws is reported, not rethrown.
   */
  stop(id: string, reason: WireError): Promise<void>;
  /**
   * Live reload: swaps the running agent for an instance of the class's new
   * version (see `swapInstance`); rejects, leaving the old one serving, if
   * the new one fails to start.
   */
  reload(spec: HostReload): Promise<void>;
  /** The thread's action durations (see DurationRow); timed from now on if they were not. */
  durations(): Promise<DurationRow[]>;
  /** Sends the spans the thread's SDK still holds: called before the thread is ended. */
  flushTraces(): Promise<void>;
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
  settings: HostSettings;
  /** Whether a `message` listener watches the space as the thread starts (later changes come as WatchItems). */
  watching: boolean;
  /** The prefix of the thread's message ids (see useIdPrefix). */
  idPrefix: string;
  /** Whether the host times actions from the start (see telemetry/durations.ts). */
  timing: boolean;
}
