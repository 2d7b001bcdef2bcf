/** The library's public surface: the agent runtime, the spaces, and the features built on them. */
import { installFeatures } from "./extension.js";

export * from "./runtime.js";
export { Space, type SpaceOptions, type SpaceEvents, type AddOptions, type AddArgs, type InitArg, type RemoveOptions, type PlacementOptions } from "./space.js";
export type { VirtualOptions, VirtualStats } from "./virtual-kinds.js";
export type { LifecycleEvent } from "./lifecycle.js";
export type { Inspector, InspectorOptions, ReloadReport, ReloadTarget } from "./extension.js";
export type { MailboxPolicy } from "./host/mailbox.js";
export type { RestartOptions } from "./restart-policy.js";
export type { MetricsServer, MetricsServerOptions } from "./telemetry/serve.js";
export { LocalSpace } from "./spaces/local.js";
export { MultiprocessSpace, type MultiprocessSpaceOptions } from "./spaces/multiprocess.js";
export { AMQPSpace, type AMQPSpaceOptions } from "./spaces/amqp.js";
export { AmqpConnectionError, AmqpPublishError, type AmqpOptions } from "./amqp/index.js";
export { HttpSpace, type HttpSpaceOptions } from "./spaces/http.js";
export { ExchangeConnectionError } from "./http/errors.js";
export { RedisSpace, type RedisSpaceOptions, type RedisDestroyOptions, type RedisRemoveOptions } from "./spaces/redis.js";
export { Manager, type ManagerOptions, type LaunchOptions, type LaunchedAgent } from "./nodes/manager.js";
export { AgentNode, type NodeOptions, type VirtualServing } from "./nodes/node.js";
export type { NodeView, PlacedAgent } from "./nodes/directory.js";
export type { NodeDescription, RestartPolicy } from "./nodes/description.js";
export type { NodeEvent } from "./nodes/events.js";
export { RedisConnectionError, RedisPublishError, type RedisConnectionOptions, type RedisSentinelOptions, type RedisTuning, type DirectOptions, type DirectTlsOptions } from "./redis/index.js";
export { Exchange, TokensFileError, type ExchangeOptions, type MailboxLimits, type Tokens } from "./exchange/index.js";

// The features whose code a space does not import, loaded on first use (a
// space nobody inspects never loads the HTTP server).
installFeatures({
  openInspector: async (space, options) => (await import("./inspector/server.js")).openInspector(space, options),
  reload: async (space, target) => (await import("./live/reload.js")).reloadSpace(space, target),
  defineAction: async (space, id, name, source, options) => (await import("./live/define.js")).defineOn(space, id, name, source, options),
});
