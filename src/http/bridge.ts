/**
 * Between agentspace messages and Academy's: an Academy request becomes our
 * message (kargs → args, pargs named by the action's help), our answer to it
 * becomes Academy's response (same tag and label, src and dest swapped), our
 * request to an Academy agent becomes an `action-request` with kargs, and its
 * response our answer. Between agentspace peers the message itself rides in
 * the body too (`agentspace`), so nothing of it is lost on the way.
 */
import { randomUUID } from "node:crypto";
import { ErrorCode, isUuid, responseTo, type EntityId, type Header, type WireMessage } from "../exchange/wire.js";
import { BROADCAST, ERROR, RESPONSE, isAnswer, messageProblem, newMessageId, type Message } from "../message.js";
import { entityOf, idOf, uidOf } from "./ids.js";

/** The names of an agent's actions' arguments, in order, as its help lists them: how Academy's positional arguments are named. */
export type ArgNames = (agentId: string, action: string) => readonly string[] | undefined;

/** What to do with a message that came from the exchange. */
export type Arrival =
  | { deliver: Message }
  /** Answered here, without the agent: a ping, or a request refused at the boundary. */
  | { reply: WireMessage }
  | { drop: string | undefined };

/** Requests remembered at once, at most, each way; the oldest are forgotten first (their answers then go nowhere). */
const MAX_REMEMBERED = 100_000;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value!);
}

/** A body in Academy's `json` serializer: `pargs`/`kargs` strings holding JSON, or the JSON itself. */
function decoded(value: unknown, what: string): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    throw new Error(`${what} is not JSON`);
  }
}

function plainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The line of a Python traceback that names the error: its last non-empty one. */
function lastLine(text: string): string {
  const lines = text.split("\n").filter((line) => line.trim().length > 0);
  return lines.at(-1)?.trim() ?? text;
}

/** Academy's words for a fault agentspace has a type for. */
function typedLine(line: string): string {
  if (line.startsWith("AttributeError: ") && line.includes("does not have an action named")) return `ActionNotFoundError: ${line.slice(16)}`;
  return line;
}

const ACADEMY_ERRORS: Record<number, string> = {
  [ErrorCode.MAILBOX_TERMINATED]: "AgentNotFoundError: its mailbox on the exchange was closed (the agent ended)",
  [ErrorCode.PING_CANCELLED]: "Error: the ping was cancelled",
  [ErrorCode.ACTION_INVALID_STATE]: "Error: the action could not be cancelled (unknown or finished)",
  [ErrorCode.ACTION_CANCELLED]: "Error: the action was cancelled",
  [ErrorCode.INVALID_CLIENT]: "MessageValidationError: that mailbox is an Academy user's, which takes no requests",
  [ErrorCode.INCOMPATIBLE_PROTOCOL]: "MessageValidationError: the receiver speaks another version of Academy's protocol",
};

export class Bridge {
  /** Requests that arrived, by receiver and the id our message got (a broadcast reaches several here under one id): the header its answer echoes, and whether the asker is agentspace. */
  readonly #asked = new Map<string, { header: Header; agentspace: boolean }>();
  /** Our requests to possible Academy agents, by tag: the message they answer. */
  readonly #sent = new Map<string, { id: string; from: string; to: string }>();
  readonly #argNames: ArgNames;

  constructor(argNames: ArgNames) {
    this.#argNames = argNames;
  }

  /** `wire` arrived in the mailbox of our agent `to`. */
  arrive(wire: WireMessage, to: string): Arrival {
    const { header, body } = wire;
    const carried = body.agentspace;
    if (carried !== undefined) return this.#arriveCarried(wire, to, carried);
    const from = idOf(header.src);
    if (header.kind === "response") return this.#arriveResponse(wire);
    if (header.protocol_version.split(".")[0] !== "1") {
      return { reply: responseTo(header, { error_code: ErrorCode.INCOMPATIBLE_PROTOCOL, mailbox_id: header.dest, kind: "academy-error-response" }) };
    }
    switch (body.kind) {
      case "ping-request":
        return { reply: responseTo(header, { kind: "success-response" }) }; // any agent answers a ping
      case "cancel-request":
        // An agentspace action runs to its end: there is nothing to cancel.
        return { reply: responseTo(header, { error_code: ErrorCode.ACTION_INVALID_STATE, mailbox_id: null, kind: "academy-error-response" }) };
      case "shutdown-request":
        return this.#refuse(header, "PermissionDeniedError: an agentspace agent stops only by its own shutdown() or by the space that holds it (remove)");
      case "action-request":
        break;
      default:
        return { drop: `a request of kind "${String(body.kind)}"` };
    }
    const name = body.action;
    if (typeof name !== "string" || name.length === 0) return this.#refuse(header, "MessageValidationError: an action-request needs an action name");
    const serialization = body.serialization ?? "pickle";
    if (serialization !== "json") {
      return this.#refuse(
        header,
        `MessageValidationError: agentspace reads only Academy's json serializer, not ${JSON.stringify(serialization)}: ` +
          `call with Handle(..., serializer="json") (or a RuntimeConfig with the json serializer)`,
      );
    }
    let args: Record<string, unknown>;
    try {
      const kargs = decoded(body.kargs ?? "{}", "kargs");
      const pargs = decoded(body.pargs ?? "[]", "pargs");
      if (!plainObject(kargs)) throw new Error("kargs must be an object");
      if (!Array.isArray(pargs)) throw new Error("pargs must be a list");
      args = { ...kargs };
      if (pargs.length > 0) {
        const names = this.#argNames(to, name);
        if (names === undefined || names.length < pargs.length) {
          throw new Error(
            `"${name}" of agent "${to}" takes named arguments only${names?.length ? ` (${names.join(", ")})` : ""}: ` +
              `pass them as keyword arguments (handle.${name}(a=1)), or list them in the action's help`,
          );
        }
        pargs.forEach((value, at) => {
          const key = names[at]!;
          if (Object.hasOwn(args, key)) throw new Error(`"${key}" of "${name}" given both by position and by name`);
          args[key] = value;
        });
      }
    } catch (error) {
      return this.#refuse(header, `MessageValidationError: ${(error as Error).message}`);
    }
    const message: Message = { meta: { id: newMessageId() }, from, to, action: { name, args } };
    remember(this.#asked, askedKey(to, message.meta.id), { header, agentspace: false });
    return { deliver: message };
  }

  /** An agentspace peer's message, carried whole: it must say who sent it as the exchange does. */
  #arriveCarried(wire: WireMessage, to: string, carried: unknown): Arrival {
    const problem = messageProblem(carried);
    if (problem !== undefined) return { drop: `a carried message that is not one: ${problem}` };
    const message = carried as Message;
    if (uidOf(message.from) !== wire.header.src.uid) return { drop: `a message claiming to be from "${message.from}" sent by ${wire.header.src.uid}` };
    if (message.to !== to && message.to !== BROADCAST) return { drop: `a message for "${message.to}" in the mailbox of "${to}"` };
    if (wire.header.kind === "request") remember(this.#asked, askedKey(to, message.meta.id), { header: wire.header, agentspace: true });
    return { deliver: message };
  }

  #arriveResponse({ header, body }: WireMessage): Arrival {
    const sent = this.#sent.get(header.tag);
    if (sent === undefined) return { drop: undefined }; // an answer nobody waits for
    this.#sent.delete(header.tag);
    const answer = (action: Message["action"]): Arrival => ({
      deliver: { meta: { id: newMessageId(), parent_id: sent.id }, from: sent.to, to: sent.from, action },
    });
    const error = (text: string, stack?: string) => answer({ name: ERROR, args: stack === undefined ? { error: text } : { error: text, stack } });
    switch (body.kind) {
      case "action-response": {
        if ((body.serialization ?? "json") !== "json") return error(`MessageValidationError: the answer came in Academy's ${String(body.serialization)} serializer, which only Python reads: have the agent answer in json`);
        const result = body.result;
        try {
          const value = Array.isArray(result) && result.length === 2 && result[0] === "__serialized__" ? decoded(result[1], "result") : result;
          return answer({ name: RESPONSE, args: { value: value ?? null } });
        } catch {
          return error("MessageValidationError: the answer's result is not JSON");
        }
      }
      case "success-response":
        return answer({ name: RESPONSE, args: { value: null } });
      case "user-error-response": {
        const raw = body.exception;
        let text = typeof raw === "string" ? raw : "";
        try {
          const parsed = decoded(raw, "exception");
          if (plainObject(parsed) && typeof parsed.exception_str === "string") text = parsed.exception_str;
        } catch {
          // a pickled exception: only its presence is known
        }
        return text ? error(typedLine(lastLine(text)), text) : error("Error: the Academy agent raised an error agentspace cannot read (pickled)");
      }
      case "academy-error-response": {
        const code = typeof body.error_code === "number" ? body.error_code : -1;
        return error(ACADEMY_ERRORS[code] ?? `Error: Academy error code ${String(body.error_code)}`);
      }
      default:
        return { drop: `a response of kind "${body.kind}"` };
    }
  }

  #refuse(request: Header, text: string): Arrival {
    const exception = JSON.stringify({ __exception__: true, exception_str: text });
    return { reply: responseTo(request, { serialization: "json", exception, kind: "user-error-response" }) };
  }

  /** What goes on the exchange for our `message` to agent or user `to` (a broadcast names each receiver). */
  depart(message: Message, to: string = message.to): WireMessage {
    if (isAnswer(message)) {
      const key = message.meta.parent_id === undefined ? undefined : askedKey(message.from, message.meta.parent_id);
      const asked = key === undefined ? undefined : this.#asked.get(key);
      if (asked !== undefined) {
        this.#asked.delete(key!);
        return responseTo(asked.header, { ...academyAnswer(message), ...(asked.agentspace ? { agentspace: message } : {}) });
      }
      // An answer to a request that did not come through this space's exchange: to an agentspace peer, whole.
      return this.#wire(message, to, "response", { ...academyAnswer(message), agentspace: message });
    }
    const body = {
      action: message.action.name,
      serialization: "json",
      pargs: "[]",
      kargs: JSON.stringify(message.action.args ?? {}),
      kind: "action-request",
      agentspace: message,
    };
    const wire = this.#wire(message, to, "request", body);
    // A uuid may be an Academy agent's, which answers in Academy's form only.
    if (isUuid(to) && message.to !== BROADCAST) remember(this.#sent, wire.header.tag, { id: message.meta.id, from: message.from, to });
    return wire;
  }

  #wire(message: Message, to: string, kind: Header["kind"], body: WireMessage["body"]): WireMessage {
    const dest: EntityId = isUuid(to) ? { uid: to.toLowerCase(), name: null, role: "agent" } : entityOf(to);
    return {
      header: { src: entityOf(message.from), dest, tag: randomUUID(), label: null, kind, protocol_version: "1" },
      body,
    };
  }
}

function askedKey(receiver: string, messageId: string): string {
  return `${receiver}\u0000${messageId}`;
}

/** Our answer in Academy's response form. */
function academyAnswer(message: Message): WireMessage["body"] {
  const args = message.action.args ?? {};
  if (message.action.name === RESPONSE) {
    return { result: ["__serialized__", JSON.stringify(args.value ?? null)], serialization: "json", kind: "action-response" };
  }
  // Academy's client raises AcademyRemoteError with this text, as it would with a Python traceback.
  const text = typeof args.stack === "string" ? args.stack : typeof args.error === "string" ? args.error : "Error: (no error text)";
  const exception = JSON.stringify({ __exception__: true, exception_str: text });
  return { serialization: "json", exception, kind: "user-error-response" };
}
