import { AgentspaceError } from "../errors.js";

/** Redis cannot be reached, refused the login, or went away. */
export class RedisConnectionError extends AgentspaceError {}

/** A message could not be handed to Redis: buffer full, transport closed, or refused. */
export class RedisPublishError extends AgentspaceError {}
