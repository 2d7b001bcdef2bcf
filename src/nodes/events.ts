import { parseJsonObject } from "./description.js";

/** Something the nodes did on their own, kept (the last thousand) in Redis for `manager.events()` and `agentspace nodes`. */
export interface NodeEvent {
  /** ms since the epoch. */
  at: number;
  kind: "node-down" | "agent-moved" | "agent-removed" | "agent-waiting" | "agent-ended" | "node-drained";
  /** The node it happened on (for a move: the node the agent left). */
  node: string;
  id?: string;
  /** For a move: the node the agent went to. */
  to?: string;
  detail?: string;
}

const kinds = new Set(["node-down", "agent-moved", "agent-removed", "agent-waiting", "agent-ended", "node-drained"]);

/** An event read back from Redis, or undefined when it is not one. */
export function parseEvent(raw: unknown): NodeEvent | undefined {
  const e = parseJsonObject(raw);
  if (typeof e === "string") return undefined;
  if (typeof e.at !== "number" || !kinds.has(e.kind as string) || typeof e.node !== "string") return undefined;
  const event: NodeEvent = { at: e.at, kind: e.kind as NodeEvent["kind"], node: e.node };
  for (const key of ["id", "to", "detail"] as const) if (typeof e[key] === "string") event[key] = e[key] as string;
  return event;
}
