import type { ComputeRequest } from "./compute-request.js";
import type { Message } from "./message.js";
import type { ClassDurations } from "./telemetry/durations.js";
import type { MessageTracing } from "./telemetry/tracing.js";

/**
 * How a host and an agent talk, whatever thread the agent lives in.
 *
 * The keys are registered symbols: an agent module bundled for a worker
 * may carry its own copy of the Agent class, and the host must still drive it.
 */
export const ATTACH = Symbol.for("agentspace.attach");
export const DETACH = Symbol.for("agentspace.detach");
export const RECEIVE = Symbol.for("agentspace.receive");
export const PROCESS = Symbol.for("agentspace.process");
export const PEER_GONE = Symbol.for("agentspace.peerGone");
export const WANTS_VALUE = Symbol.for("agentspace.wantsValue");
export const SETTLED = Symbol.for("agentspace.settled");

/** What the host gives an agent when it joins. */
export interface AgentLink {
  /** Hands a message to the host; `from` and `meta.id` are already set. */
  post(message: Message): void;
  /** Reports an error that has no sender to go back to (a failing callback). */
  reportError(error: unknown): void;
  /** An error answer reached the agent's default handleActionError: reported, its repeats summarised. */
  unhandledAnswer(error: unknown): void;
  /**
   * Messages travel as JSON (a broker): a value JSON would change is refused
   * at the sender with MessageValidationError, never changed on the way.
   */
  json?: boolean;
  /** Default `timeoutMs` for `request`. */
  requestTimeoutMs: number;
  /** Whether the debug actions (`inspect`, `eval`) are open at all (who may call them is checked where messages leave their sender's host). */
  debug: boolean;
  /** The agent called `shutdown()`: the space removes it for good (no restart). Said after the answer being sent, if any. */
  shutdown(): void;
  /** Runs `request` on the space's CPU pool. */
  compute(request: ComputeRequest): Promise<unknown>;
  /**
   * True when the value answering `request` would reach nobody who looks (its
   * sender neither awaits nor handles values, or marked it errors-only): the
   * answer is then only counted, never sent.
   */
  valueUnseen?(request: Message): boolean;
  /** An answer was counted as sent but not sent: its value would reach nobody (see `valueUnseen`). */
  unsent(): void;
  /** An async action (or its gate) started (+1) or settled (-1): counted for the space (stats().working). */
  working(delta: 1 | -1): void;
  /**
   * A durable agent handled `handled` (undefined: an answer): its state is
   * written now, before the answer leaves, or put back when the action
   * failed (`ok` false). Returns the error the answer must carry instead of
   * the action's outcome, if any (see DurableState.commit). Undefined for an
   * agent that keeps no state.
   */
  written(handled: Message | undefined, ok: boolean): Error | undefined;
  /** The thread's message tracing while an OpenTelemetry SDK is registered; undefined otherwise (nothing is traced). */
  readonly tracing?: MessageTracing | undefined;
  /** Where the agent's action durations go while the space times them; undefined otherwise. */
  readonly durations?: ClassDurations | undefined;
}

/** The side of an agent that hosts drive. */
export interface LinkedAgent {
  readonly id: string;
  [ATTACH](link: AgentLink): void;
  [DETACH](reason: Error): void;
  /**
   * Sees a message as it arrives (its listeners too): an answer settles its
   * request at once. True when the message must wait in the mailbox for
   * `PROCESS`; false when it was dealt with (or is to be skipped) now.
   */
  [RECEIVE](message: Message): boolean;
  /** Takes one message from the mailbox; a promise holds the mailbox until it settles (all of a serial agent's action). */
  [PROCESS](message: Message): void | Promise<void>;
  [PEER_GONE](peerId: string, reason: Error): void;
  /**
   * Whether a value answering `sent` (a message it sent: that very object)
   * would be seen: a request awaits it, a handler or listener takes it.
   * `copy`: `sent` is a copy of what it sent (it went round through another
   * thread), so its request is looked up by id instead.
   */
  [WANTS_VALUE](sent: Message, copy?: boolean): boolean;
  /** Settles once every action it started (and its answer) is done: a reload waits for it. */
  [SETTLED](): Promise<void>;
  afterAdd(): unknown;
  beforeRemove(): unknown;
}
