import { AgentspaceError } from "../errors.js";

/** The HTTP exchange cannot be reached, or went away. */
export class ExchangeConnectionError extends AgentspaceError {}
