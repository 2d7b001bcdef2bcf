import type { RedisConnectionOptions, RedisTuning } from "../redis/index.js";

/** What a Manager needs of a RedisSpace: where its Redis and namespace are, and a hook to close with it. */
export interface SpaceLink {
  redis: RedisConnectionOptions | undefined;
  namespace: string | undefined;
  tuning: RedisTuning | undefined;
  /** Run when the space is destroyed, before its own connections close. */
  closers: Set<() => Promise<void>>;
}

/** Per RedisSpace, set by its constructor: kept out of the space's public surface. */
export const spaceLinks = new WeakMap<object, SpaceLink>();
