import { types } from "node:util";
import { MessageValidationError } from "./errors.js";

/** A message between agents: the same shape in every space and on the wire. */
export interface Message {
  meta: {
    id: string;
    parent_id?: string;
    /** W3C trace context of the span that sent it (see telemetry/tracing.ts): carried unchanged by every hop and peer. */
    traceparent?: string;
    tracestate?: string;
  };
  /** Set by the space from the sending agent: cannot be forged. */
  from: string;
  /** An agent id, or `"*"` for every agent in the space. */
  to: string;
  action: { name: string; args?: Record<string, unknown> };
}

/** What an agent passes to `send`/`request`: the space fills in `meta.id` and `from`. */
export interface OutgoingMessage {
  to: string;
  action: { name: string; args?: Record<string, unknown> };
  meta?: { parent_id?: string };
}

export const BROADCAST = "*";
export const RESPONSE = "[response]";
export const ERROR = "[error]";

/** Answers settle requests; they never invoke an action and are never answered. */
export function isAnswer(message: Message): boolean {
  const name = message.action.name;
  return name === RESPONSE || name === ERROR;
}

// One random prefix per thread and a counter: unique across threads and hosts
// like a nanoid, at a fraction of the cost (a nanoid per message is ~0.5 µs;
// a decimal counter converts faster than a base-36 one).
let idPrefix: string | undefined;
let idCounter = 0;

/**
 * Gives this thread's message ids their prefix: a worker thread's comes from
 * the space, so that the thread never loads a source of randomness of its
 * own (a fifth of a bare worker's start-up time).
 */
export function useIdPrefix(prefix: string): void {
  idPrefix = prefix;
}

/** A random prefix for a thread's message ids: 14 URL-safe characters and a dot, as nanoid(14) makes. */
export function idPrefixFor(): string {
  return `${Buffer.from(crypto.getRandomValues(new Uint8Array(11))).toString("base64url").slice(0, 14)}.`;
}

/** A new message id. */
export function newMessageId(): string {
  return (idPrefix ??= idPrefixFor()) + idCounter++;
}

// AMQP names a queue in at most 255 bytes of UTF-8, and each agent has a
// second queue named `<id>-broadcast` (10 bytes more).
const BROADCAST_QUEUE_SUFFIX = "-broadcast";
const MAX_ID_BYTES = 255 - BROADCAST_QUEUE_SUFFIX.length;

/**
 * Why `id` cannot name an agent, or undefined when it can. The rule is the
 * AMQP one (queue names in UTF-8 bytes, topic wildcards, the broadcast
 * queue's suffix), so an id valid in one space is valid in all.
 */
export function agentIdProblem(id: unknown): string | undefined {
  if (typeof id !== "string") return `an agent id must be a string, got ${typeof id}`;
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: count bytes only when it may matter.
  if (id.length === 0 || (id.length * 3 > MAX_ID_BYTES && Buffer.byteLength(id, "utf8") > MAX_ID_BYTES)) {
    return `agent id "${id.slice(0, 40)}" must be 1–${MAX_ID_BYTES} bytes of UTF-8`;
  }
  if (id.startsWith("amq.")) return `agent id "${id}" must not start with "amq."`;
  if (id.endsWith(BROADCAST_QUEUE_SUFFIX)) return `agent id "${id}" must not end with "${BROADCAST_QUEUE_SUFFIX}" (the name of every agent's broadcast queue)`;
  if (id.includes("*") || id.includes("#")) return `agent id "${id}" must not contain "*" or "#"`;
  return undefined;
}

/**
 * Why `value`, which came from another thread or process, is not a message
 * of the right shape, or undefined. Cheap (it runs on every message a worker
 * sends): fields and their types only; who may send it is checked by the caller.
 */
export function messageProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "a message must be an object";
  const { meta, from, to, action } = value as Record<string, unknown>;
  if (typeof meta !== "object" || meta === null) return `"meta" must be an object`;
  const { id, parent_id, traceparent, tracestate } = meta as Record<string, unknown>;
  if (typeof id !== "string" || id.length === 0) return `"meta.id" must be a non-empty string`;
  if (parent_id !== undefined && typeof parent_id !== "string") return `"meta.parent_id" must be a string`;
  if (traceparent !== undefined && typeof traceparent !== "string") return `"meta.traceparent" must be a string`;
  if (tracestate !== undefined && typeof tracestate !== "string") return `"meta.tracestate" must be a string`;
  if (typeof from !== "string" || from.length === 0) return `"from" must be a non-empty string`;
  if (typeof to !== "string" || to.length === 0) return `"to" must be a non-empty string`;
  if (typeof action !== "object" || action === null) return `"action" must be an object with a "name"`;
  const { name, args } = action as Record<string, unknown>;
  if (typeof name !== "string" || name.length === 0) return `"action.name" must be a non-empty string`;
  if (args !== undefined && (typeof args !== "object" || args === null || Array.isArray(args))) {
    return `"action.args" must be an object of named arguments`;
  }
  return undefined;
}

/** An object literal or `Object.create(null)`, from this realm or another (a REPL's vm context). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  // This realm's literals first: three of these run on every send.
  if (proto === Object.prototype) return true;
  if (Array.isArray(value)) return false;
  return proto === null || (Object.getPrototypeOf(proto) === null && Object.hasOwn(proto, "hasOwnProperty"));
}

// Recipients that passed agentIdProblem: most sends go to ids sent to before, and a
// lookup is cheaper than its five scans. Forgotten at a bound, so a swarm costs no more.
const validRecipients = new Set<string>();
const MAX_VALID_RECIPIENTS = 4096;

/** Checks what an agent asks to send; throws MessageValidationError naming the fault. */
export function validateOutgoing(message: unknown): asserts message is OutgoingMessage {
  if (!isPlainObject(message)) throw new MessageValidationError("a message must be an object");
  const { to, action, meta } = message;
  if (to !== BROADCAST && !validRecipients.has(to as string)) {
    const problem = agentIdProblem(to);
    if (problem) throw new MessageValidationError(`"to": ${problem}`);
    if (validRecipients.size >= MAX_VALID_RECIPIENTS) validRecipients.clear();
    validRecipients.add(to as string);
  }
  if (!isPlainObject(action)) throw new MessageValidationError(`"action" must be an object with a "name"`);
  if (typeof action.name !== "string" || action.name.length === 0) {
    throw new MessageValidationError(`"action.name" must be a non-empty string`);
  }
  if (action.args !== undefined && !isPlainObject(action.args)) {
    throw new MessageValidationError(`"action.args" must be an object of named arguments`);
  }
  if (meta !== undefined) {
    if (!isPlainObject(meta)) throw new MessageValidationError(`"meta" must be an object`);
    if (meta.parent_id !== undefined && typeof meta.parent_id !== "string") {
      throw new MessageValidationError(`"meta.parent_id" must be a string`);
    }
  }
}

/** Checks a whole message that arrived from outside the process (e.g. a broker). */
export function validateIncoming(message: unknown): asserts message is Message {
  if (!isPlainObject(message)) throw new MessageValidationError("a message must be an object");
  const meta = message.meta;
  if (!isPlainObject(meta) || typeof meta.id !== "string" || meta.id.length === 0) {
    throw new MessageValidationError(`"meta.id" must be a non-empty string`);
  }
  if (typeof message.from !== "string" || message.from.length === 0) {
    throw new MessageValidationError(`"from" must be a non-empty string`);
  }
  validateOutgoing({ to: message.to, action: message.action, meta: { parent_id: meta.parent_id } });
  // Read only by tracing, which checks their form: here, only that they are what it reads.
  if (meta.traceparent !== undefined && typeof meta.traceparent !== "string") throw new MessageValidationError(`"meta.traceparent" must be a string`);
  if (meta.tracestate !== undefined && typeof meta.tracestate !== "string") throw new MessageValidationError(`"meta.tracestate" must be a string`);
}

/**
 * Throws MessageValidationError if `value` holds something structured clone
 * refuses (a function, a symbol, a promise, a weak collection). Checked at
 * `send` in every space, so code that works in LocalSpace (which never
 * clones) also works across threads and hosts.
 */
export function assertCloneable(value: unknown, path = "action.args"): void {
  const problem = findUncloneable(value);
  if (problem) throw new MessageValidationError(`${path}${problem.path} cannot be cloned: it is a ${problem.what}`);
}

interface Uncloneable {
  path: string;
  what: string;
}

// On the hot path (every send and answer), so: no allocation unless something
// is nested or wrong. `seen` (reused; the walk is synchronous) guards against
// cycles and is filled only on the way into nested objects; the path is built
// only on the way back from a failure.
const seen = new Set<object>();
const { isProxy } = types;

function findUncloneable(value: unknown): Uncloneable | undefined {
  try {
    return visit(value);
  } catch (error) {
    // A getter threw while we read the value: structured clone would throw too.
    return { path: "", what: `value whose reading threw (${String(error)})` };
  } finally {
    if (seen.size > 0) seen.clear();
  }
}

function visit(value: unknown): Uncloneable | undefined {
  const type = typeof value;
  if (type === "function" || type === "symbol") return { path: "", what: type };
  if (type !== "object" || value === null) return undefined;
  const object = value as object;
  if (isProxy(object)) return { path: "", what: "Proxy" };
  // Most arguments are object literals: none of the checks below can match one.
  if (Object.getPrototypeOf(object) === Object.prototype) return visitFields(object as Record<string, unknown>);
  if (object instanceof Promise || object instanceof WeakMap || object instanceof WeakSet || object instanceof WeakRef) {
    return { path: "", what: object.constructor.name };
  }
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer || object instanceof Date || object instanceof RegExp) return undefined;
  if (object instanceof Map) {
    for (const [key, item] of object) {
      const problem = child(object, key) ?? child(object, item);
      if (problem) return within(problem, `.get(${String(key)})`);
    }
  } else if (object instanceof Set) {
    for (const item of object) {
      const problem = child(object, item);
      if (problem) return within(problem, "<item>");
    }
  } else if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      const problem = child(object, object[i]);
      if (problem) return within(problem, `[${i}]`);
    }
  } else {
    return visitFields(object as Record<string, unknown>);
  }
  return undefined;
}

function visitFields(object: Record<string, unknown>): Uncloneable | undefined {
  // Own keys only: structured clone copies no inherited property.
  for (const key in object) {
    if (!Object.hasOwn(object, key)) continue;
    const problem = child(object, object[key]);
    if (problem) return within(problem, `.${key}`);
  }
  return undefined;
}

function child(parent: object, value: unknown): Uncloneable | undefined {
  if (typeof value !== "object" || value === null) return visit(value);
  if (seen.has(value)) return undefined; // a cycle: structured clone keeps it
  seen.add(parent);
  seen.add(value);
  return visit(value);
}

function within(problem: Uncloneable, step: string): Uncloneable {
  problem.path = step + problem.path;
  return problem;
}
