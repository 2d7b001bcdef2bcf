export { RedisTransport, type RedisTransportSettings, type MailboxFigures } from "./transport.js";
export {
  DEFAULT_NAMESPACE,
  DEFAULT_REDIS_URL,
  describeRedis,
  resolveRedisOptions,
  type DirectOptions,
  type DirectTlsOptions,
  type RedisConnectionOptions,
  type RedisSentinelOptions,
  type RedisTuning,
} from "./options.js";
export { RedisConnectionError, RedisPublishError } from "./errors.js";
export { Keys } from "./keys.js";
