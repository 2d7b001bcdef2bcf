import type { ComputeRequest } from "./compute.js";
import type { Message } from "./message.js";

/**
 * How a space and an agent talk, whatever thread the agent lives in.
 *
 * The keys are registered symbols: an agent module bundled for a worker
 * carries its own copy of the Agent class, and the worker host must still
 * drive it.
 */
export const ATTACH = Symbol.for("agentspace.attach");
export const DETACH = Symbol.for("agentspace.detach");
export const DELIVER = Symbol.for("agentspace.deliver");
export const PEER_GONE = Symbol.for("agentspace.peerGone");
export const WANTS_VALUE = Symbol.for("agentspace.wantsValue");

/** What the space gives an agent when it joins. */
export interface AgentLink {
  /** Hands a message to the router; `from` and `meta.id` are already set. */
  post(message: Message): void;
  /** Reports an error that has no sender to go back to (a failing callback). */
  reportError(error: unknown): void;
  /**
   * Messages travel as JSON (a broker): a value JSON would change is refused
   * at the sender with MessageValidationError, never changed on the way.
   */
  json?: boolean;
  /** Default `timeoutMs` for `request`. */
  requestTimeoutMs: number;
  /** Whether the debug actions (`inspect`, `eval`) are open at all (who may call them is checked where messages enter the router). */
  debug: boolean;
  /** The agent took a message (not an answer) from its mailbox: room for one more. */
  taken(): void;
  /** The agent called `shutdown()`: the space removes it for good (no restart). Said after the answer being sent, if any. */
  shutdown(): void;
  /** Runs `request` on the space's CPU pool. */
  compute(request: ComputeRequest): Promise<unknown>;
  /**
   * True when the value answering `request` would reach nobody who looks (see
   * `hostInThread`): the answer is then not built, only counted.
   */
  valueUnseen?(request: Message): boolean;
}

/** The side of an agent that spaces and worker hosts drive. */
export interface LinkedAgent {
  readonly id: string;
  [ATTACH](link: AgentLink): void;
  [DETACH](reason: Error): void;
  [DELIVER](message: Message): void;
  [PEER_GONE](peerId: string, reason: Error): void;
  /** Whether a value answering the message `id` would be seen: a request awaits it, a handler or listener takes it. */
  [WANTS_VALUE](id: string): boolean;
  afterAdd(): unknown;
  beforeRemove(): unknown;
}
