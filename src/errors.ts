/** Base of every error agentspace raises; `name` is the class name, as on the wire. */
export class AgentspaceError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No answer came within `timeoutMs`. */
export class RequestTimeoutError extends AgentspaceError {}

/** The receiving agent has no action of that name. */
export class ActionNotFoundError extends AgentspaceError {}

/** No agent of that id is in the space. */
export class AgentNotFoundError extends AgentspaceError {}

/** The action's access policy refused the message. */
export class PermissionDeniedError extends AgentspaceError {}

/** The message is malformed or its arguments cannot be cloned. */
export class MessageValidationError extends AgentspaceError {}

/** The receiver's mailbox holds `mailboxSize` messages already: the message was not delivered. */
export class MailboxFullError extends AgentspaceError {}

/**
 * A durable agent's state write was refused: another holder of its id (a
 * process that took the id while this one stalled past its lease) owns the
 * state now. The instance that tried is stopped; nothing it did is kept.
 */
export class StateFencedError extends AgentspaceError {}

/**
 * An agent did not start: its constructor, its `restore` or its `afterAdd`
 * threw (the error is the `cause`), or its thread could not load its class.
 * Nothing of it is left in the space.
 */
export class AgentStartError extends AgentspaceError {
  constructor(
    readonly agentId: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Why a virtual agent's instance stops when it passivates. Not an answer
 * anyone gets: whatever waits for it (in its mailbox, on its way) is handed
 * back to the router, which keeps it for the id's next activation, and
 * nobody waiting on it is told it left.
 */
export class PassivatedError extends AgentspaceError {}

/** Whether `reason` hands back what waits for a stopping agent instead of refusing it (see PassivatedError). */
export function handsBack(reason: Error): boolean {
  return reason instanceof PassivatedError;
}

/** `space.add` of an id the space (or, on a broker, anyone) already holds. */
export class DuplicateAgentError extends AgentspaceError {}

/**
 * `launch` cannot place the agent: no live node of that name, none that
 * offers the class, none with room, or the id is placed already. Raised at
 * once, from what the nodes advertise in Redis: never a timeout.
 */
export class PlacementError extends AgentspaceError {}

/** A node lost its name in Redis (its lease ran out and its agents were re-placed), or could not take it. */
export class NodeLeaseError extends AgentspaceError {}

/** The agent's thread or process died; requests to it can no longer be answered. */
export class AgentCrashedError extends AgentspaceError {
  constructor(
    readonly agentId: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A `@loop` or `@timer` of the agent threw (not because its signal
 * aborted): a failure of the agent, handled by its restart policy.
 */
export class LoopFailedError extends AgentCrashedError {
  constructor(
    agentId: string,
    /** The method that threw. */
    readonly loop: string,
    /** Whether it was a `@loop` or a `@timer`. */
    readonly kind: "loop" | "timer",
    cause: unknown,
  ) {
    super(agentId, `agent "${agentId}" failed: its ${kind} "${loop}" threw ${describe(cause)}`, { cause });
  }
}

function describe(error: unknown): string {
  if (error instanceof RemoteActionError) return error.message; // from a worker: already "<Name>: <message>"
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The remote action threw: carries the remote error's name, message and stack. */
export class RemoteActionError extends AgentspaceError {
  constructor(
    readonly remoteName: string,
    readonly remoteMessage: string,
    readonly remoteStack?: string,
  ) {
    super(remoteName ? `${remoteName}: ${remoteMessage}` : remoteMessage);
  }
}

/** The `[error]` answer's arguments, as Python Agency writes them. */
export interface WireError {
  error: string;
  stack?: string;
}

/** `"<Name>: <message>"` of an error (or the text of anything else thrown), for a line people read. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** An error as `"<Name>: <message>"`, the form both agentspace and Agency put on the wire. */
export function errorToWire(error: unknown): WireError {
  try {
    return toWire(error);
  } catch {
    // A name, message or stack that is not what it claims (a throwing getter, a symbol).
    return { error: "Error: (an error that could not be read)" };
  }
}

function toWire(error: unknown): WireError {
  if (error instanceof RemoteActionError) {
    // Passing on a remote failure: keep the original name, not ours.
    return withStack(error.message, error.remoteStack);
  }
  // The runtime's own refusals carry no stack: where the router made them says nothing to the sender.
  if (error instanceof AgentspaceError) return { error: `${error.name}: ${error.message}` };
  if (error instanceof Error) {
    const stack = typeof error.stack === "string" ? error.stack : undefined;
    return withStack(`${String(error.name)}: ${String(error.message)}`, stack);
  }
  return { error: `Error: ${String(error)}` };
}

function withStack(error: string, stack: string | undefined): WireError {
  return stack === undefined ? { error } : { error, stack };
}

type ErrorClass = new (message: string) => AgentspaceError;

// Runtime errors keep their type across the wire; Python Agency's own names
// for the same faults map onto ours. A Map: the name comes from the wire, and
// must never find an inherited key (`constructor`, `toString`, `__proto__`).
const typedByName = new Map<string, ErrorClass>([
  ["ActionNotFoundError", ActionNotFoundError],
  ["AgentNotFoundError", AgentNotFoundError],
  ["PermissionDeniedError", PermissionDeniedError],
  ["MessageValidationError", MessageValidationError],
  ["RequestTimeoutError", RequestTimeoutError],
  ["DuplicateAgentError", DuplicateAgentError],
  ["MailboxFullError", MailboxFullError],
  ["StateFencedError", StateFencedError],
  ["PassivatedError", PassivatedError],
  ["PlacementError", PlacementError],
  ["PermissionError", PermissionDeniedError],
]);

/**
 * Makes an error without capturing a stack: for errors rebuilt from the wire
 * or raised by the router, where a local stack says nothing useful, and
 * capturing one (with source maps on) costs more than the whole message hop.
 */
export function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The typed error an `[error]` answer stands for. */
export function errorFromWire(args: Record<string, unknown> | undefined): Error {
  return withoutStack(() => rebuild(args));
}

function rebuild(args: Record<string, unknown> | undefined): Error {
  const text = typeof args?.error === "string" ? args.error : "Error: (no error text)";
  const stack = typeof args?.stack === "string" ? args.stack : undefined;
  const colon = text.indexOf(": ");
  const name = colon > 0 && /^[\w.]+$/.test(text.slice(0, colon)) ? text.slice(0, colon) : "";
  const message = name ? text.slice(colon + 2) : text;
  const Typed = name === "AttributeError" && message.includes(" not found on ") ? ActionNotFoundError : typedByName.get(name);
  if (Typed) {
    const error = new Typed(message);
    if (stack !== undefined) error.stack = stack;
    return error;
  }
  return new RemoteActionError(name, message, stack);
}

/** A reload that could not swap an agent: its old version still serves. */
export class ReloadError extends AgentspaceError {}
