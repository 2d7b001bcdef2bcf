/**
 * Academy's HTTP exchange wire (academy-py 0.5, `academy.exchange.cloud`):
 * entity ids and message envelopes as they cross the exchange, checked at
 * the boundary. Both the exchange and HttpSpace parse with these.
 */

/** Who a mailbox belongs to: an agent, or a user (a client with no actions). */
export type Role = "agent" | "user";

/** Academy's EntityId: matched on (role, uid); `name` is for display only. */
export interface EntityId {
  uid: string;
  name: string | null;
  role: Role;
}

export interface Header {
  src: EntityId;
  dest: EntityId;
  /** Unique per request; its response reuses it. */
  tag: string;
  /** The id of the sending Academy Handle; a response must echo it or Academy's client drops it. */
  label: string | null;
  kind: "request" | "response";
  protocol_version: string;
}

/** A message as the exchange holds it: the header re-serialized, the body relayed as parsed. */
export interface WireMessage {
  header: Header;
  body: Record<string, unknown> & { kind: string };
}

/** The body kinds Academy defines; anything else is refused at the boundary, as Academy refuses it. */
export const REQUEST_KINDS = new Set(["action-request", "ping-request", "cancel-request", "shutdown-request"]);
export const RESPONSE_KINDS = new Set(["action-response", "success-response", "user-error-response", "academy-error-response"]);

/** Academy's error codes in an `academy-error-response`. */
export const ErrorCode = {
  MAILBOX_TERMINATED: 0,
  PING_CANCELLED: 1,
  ACTION_INVALID_STATE: 2,
  ACTION_CANCELLED: 3,
  INVALID_CLIENT: 4,
  INCOMPATIBLE_PROTOCOL: 5,
} as const;

/** The value of a field that fails validation: its message becomes the 400's text. */
export class WireError extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new WireError(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function uuid(value: unknown, what: string): string {
  if (!isUuid(value)) throw new WireError(`${what} must be a UUID, got ${JSON.stringify(value) ?? typeof value}`);
  return value.toLowerCase();
}

/** Parses an EntityId from its object form; unknown fields are refused (as Academy's model refuses them). */
export function entityIdOf(value: unknown, what = "mailbox"): EntityId {
  const fields = object(value, what);
  for (const key of Object.keys(fields)) {
    if (key !== "uid" && key !== "name" && key !== "role") throw new WireError(`${what}.${key} is not a field of an entity id`);
  }
  const { uid, name, role } = fields;
  if (role !== "agent" && role !== "user") throw new WireError(`${what}.role must be "agent" or "user"`);
  if (name !== undefined && name !== null && typeof name !== "string") throw new WireError(`${what}.name must be a string or null`);
  return { uid: uuid(uid, `${what}.uid`), name: typeof name === "string" ? name : null, role };
}

/** Parses a JSON string holding an EntityId (the double encoding every route uses). */
export function entityIdFromJson(text: unknown, what = "mailbox"): EntityId {
  if (typeof text !== "string") throw new WireError(`${what} must be a string holding an entity id's JSON`);
  return entityIdOf(parseJson(text, what), what);
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new WireError(`${what} is not valid JSON`);
  }
}

/**
 * Parses a message: a strict header (unknown header fields are dropped, as
 * Academy re-serializes it) and a body that must be an object with a known
 * `kind` for the header's kind, relayed with every field it has.
 */
export function messageOf(value: unknown): WireMessage {
  const fields = object(value, "message");
  const header = object(fields.header, "message.header");
  const kind = header.kind;
  if (kind !== "request" && kind !== "response") throw new WireError(`message.header.kind must be "request" or "response"`);
  const label = header.label;
  if (label !== undefined && label !== null && !isUuid(label)) throw new WireError("message.header.label must be a UUID or null");
  const version = header.protocol_version ?? "1";
  if (typeof version !== "string") throw new WireError("message.header.protocol_version must be a string");
  const body = object(fields.body, "message.body");
  const known = kind === "request" ? REQUEST_KINDS : RESPONSE_KINDS;
  if (typeof body.kind !== "string" || !known.has(body.kind)) {
    throw new WireError(`message.body.kind must be one of ${[...known].join(", ")} for a ${kind}`);
  }
  return {
    header: {
      src: entityIdOf(header.src, "message.header.src"),
      dest: entityIdOf(header.dest, "message.header.dest"),
      tag: uuid(header.tag, "message.header.tag"),
      label: typeof label === "string" ? label.toLowerCase() : null,
      kind,
      protocol_version: version,
    },
    body: body as WireMessage["body"],
  };
}

export function messageFromJson(text: unknown): WireMessage {
  if (typeof text !== "string") throw new WireError("message must be a string holding the message's JSON");
  return messageOf(parseJson(text, "message"));
}

/** The response an exchange or agent sends for `request` (src and dest swapped, tag and label echoed). */
export function responseTo(request: Header, body: WireMessage["body"]): WireMessage {
  return {
    header: { src: request.dest, dest: request.src, tag: request.tag, label: request.label, kind: "response", protocol_version: "1" },
    body,
  };
}

/**
 * PUT /messages, agentspace's own route: `{ messages: string[] }` (each as
 * PUT /message's `message`) answered `{ results: PutResult[] }`, one per
 * message in order. At most MAX_BATCH_MESSAGES in a body of at most
 * MAX_BATCH_BODY_BYTES (or one message's worth, when that is more).
 */
export const MAX_BATCH_MESSAGES = 4096;
export const MAX_BATCH_BODY_BYTES = 8 * 1024 * 1024;

/** One message's outcome in PUT /messages: the status PUT /message would give it, and the refusal's text. */
export interface PutResult {
  status: number;
  text?: string;
}

/** Compact JSON, one line: what an SSE event carries and `GET /message` answers. */
export function encodeWire(message: WireMessage): string {
  return JSON.stringify(message);
}

export function encodeEntityId(id: EntityId): string {
  return JSON.stringify({ uid: id.uid, name: id.name, role: id.role });
}
