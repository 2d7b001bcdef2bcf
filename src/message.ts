import { types } from "node:util";
import { nanoid } from "nanoid";
import { MessageValidationError } from "./errors.js";

/** A message between agents: the same shape in every space and on the wire. */
export interface Message {
  meta: { id: string; parent_id?: string };
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
const idPrefix = `${nanoid(14)}.`;
let idCounter = 0;

/** A new message id. */
export function newMessageId(): string {
  return idPrefix + idCounter++;
}

const MAX_ID_LENGTH = 255;

/**
 * Why `id` cannot name an agent, or undefined when it can. The rule is the
 * AMQP one (queue names, topic wildcards), so an id valid in one space is
 * valid in all.
 */
export function agentIdProblem(id: unknown): string | undefined {
  if (typeof id !== "string") return `an agent id must be a string, got ${typeof id}`;
  if (id.length === 0 || id.length > MAX_ID_LENGTH) return `agent id "${id.slice(0, 40)}" must be 1–255 characters`;
  if (id.startsWith("amq.")) return `agent id "${id}" must not start with "amq."`;
  if (id.includes("*") || id.includes("#")) return `agent id "${id}" must not contain "*" or "#"`;
  return undefined;
}

/** An object literal or `Object.create(null)`, from this realm or another (a REPL's vm context). */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === null || (Object.getPrototypeOf(proto) === null && Object.hasOwn(proto, "hasOwnProperty"));
}

/** Checks what an agent asks to send; throws MessageValidationError naming the fault. */
export function validateOutgoing(message: unknown): asserts message is OutgoingMessage {
  if (!isPlainObject(message)) throw new MessageValidationError("a message must be an object");
  const { to, action, meta } = message;
  if (to !== BROADCAST) {
    const problem = agentIdProblem(to);
    if (problem) throw new MessageValidationError(`"to": ${problem}`);
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
    // Own keys only: structured clone copies no inherited property.
    for (const key of Object.keys(object)) {
      const problem = child(object, (object as Record<string, unknown>)[key]);
      if (problem) return within(problem, `.${key}`);
    }
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
