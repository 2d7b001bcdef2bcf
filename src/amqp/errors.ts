import { AgentspaceError } from "../errors.js";

/** The broker cannot be reached, refused the login, or the transport is not connected. */
export class AmqpConnectionError extends AgentspaceError {}

/** A message could not be handed to the broker: buffer full, transport closed, or refused. */
export class AmqpPublishError extends AgentspaceError {}
