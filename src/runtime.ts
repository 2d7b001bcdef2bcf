/**
 * What an agent module and a worker thread need of the library, and nothing
 * more: agents, actions, loops and timers, errors, messages. An agent module
 * bundled for a worker imports this instead of the whole library (spaces,
 * inspector, brokers, nodes, CLI), so a worker thread starts lean.
 */
export { Agent } from "./agent.js";
export {
  action,
  ACCESS_PERMITTED,
  ACCESS_DENIED,
  ACCESS_REQUESTED,
  type AccessPolicy,
  type ActionOptions,
  type ActionHelp,
  type ArgHelp,
  type HelpEntry,
} from "./action.js";
export { loop, timer, sleep } from "./loops.js";
export type { AgentClass, InitOf } from "./agent-class.js";
export type { Message, OutgoingMessage } from "./message.js";
export type { RequestOptions } from "./pending.js";
export type { GatherOptions, Gathered } from "./gather.js";
export type { Handle } from "./agent.js";
export type { AgentStats } from "./stats.js";
export {
  AgentspaceError,
  RequestTimeoutError,
  ActionNotFoundError,
  AgentNotFoundError,
  PermissionDeniedError,
  MessageValidationError,
  DuplicateAgentError,
  AgentCrashedError,
  LoopFailedError,
  MailboxFullError,
  StateFencedError,
  AgentStartError,
  RemoteActionError,
  ReloadError,
  PlacementError,
  NodeLeaseError,
} from "./errors.js";
