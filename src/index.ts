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
export type { Message, OutgoingMessage } from "./message.js";
export type { RequestOptions } from "./pending.js";
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
  RemoteActionError,
} from "./errors.js";
export { Space, type SpaceOptions, type SpaceEvents, type AddOptions, type RemoveOptions, type AgentClass } from "./space.js";
export type { Inspector, InspectorOptions } from "./inspector/types.js";
export { ReloadError } from "./live/swap.js";
export type { ReloadReport, ReloadTarget } from "./live/reload.js";
export type { AgentStats, MailboxPolicy } from "./agent-route.js";
export type { RestartOptions } from "./spaces/supervisor.js";
export type { Handle } from "./handle.js";
export { LocalSpace } from "./spaces/local.js";
export { MultiprocessSpace, type MultiprocessSpaceOptions } from "./spaces/multiprocess.js";
export { AMQPSpace, type AMQPSpaceOptions } from "./spaces/amqp.js";
export { AmqpConnectionError, AmqpPublishError, type AmqpOptions } from "./amqp/index.js";
export { RedisSpace, type RedisSpaceOptions, type RedisDestroyOptions, type RedisRemoveOptions } from "./spaces/redis.js";
export { Manager, type ManagerOptions, type LaunchOptions, type LaunchedAgent } from "./nodes/manager.js";
export { AgentNode, type NodeOptions } from "./nodes/node.js";
export type { NodeView, PlacedAgent } from "./nodes/directory.js";
export type { NodeDescription, RestartPolicy } from "./nodes/description.js";
export type { NodeEvent } from "./nodes/events.js";
export { PlacementError, NodeLeaseError } from "./errors.js";
export { RedisConnectionError, RedisPublishError, type RedisConnectionOptions, type RedisTuning, type DirectOptions, type DirectTlsOptions } from "./redis/index.js";
