import { inspect } from "node:util";
import { paint, type Colour } from "./colour.js";
import { BROADCAST, ERROR, RESPONSE, type Message } from "./message.js";

/** The four kinds of message a trace tells apart, each with its own colour. */
export type MessageKind = "request" | "response" | "error" | "broadcast";

const colourOf: Record<MessageKind, Colour> = { request: "cyan", response: "green", error: "red", broadcast: "magenta" };

// A trace line stays one line: long arguments and values are cut here.
const maxDetail = 160;

export function kindOf(message: Message): MessageKind {
  if (message.action.name === RESPONSE) return "response";
  if (message.action.name === ERROR) return "error";
  return message.to === BROADCAST ? "broadcast" : "request";
}

/**
 * One routed message as one line: who to whom, then the action and its
 * arguments, or the answer's value or error. A request shows its id and an
 * answer the id it answers, so the two can be paired (the REPL's `.trace`,
 * the inspector's trace panel):
 *
 *     trace me → calc: add { a: 1, b: 2 }  #jdH.41
 *     trace calc → me: [response] 3  ↩ #jdH.41
 */
export function formatTrace(message: Message, colour: boolean): string {
  const kind = kindOf(message);
  const args = message.action.args;
  let detail: string;
  if (kind === "response") detail = `[response] ${show(args?.value)}`;
  else if (kind === "error") detail = `[error] ${typeof args?.error === "string" ? args.error : show(args?.error)}`;
  else detail = `${message.action.name} ${show(args ?? {})}`;
  const answer = kind === "response" || kind === "error";
  const link = answer ? `↩ #${short(message.meta.parent_id)}` : `#${short(message.meta.id)}`;
  const line = `trace ${message.from} → ${message.to}: ${cut(detail)}`;
  return `${paint(line, colourOf[kind], colour)}  ${paint(link, "dim", colour)}`;
}

function show(value: unknown): string {
  return inspect(value, { breakLength: Infinity, depth: 3, compact: true, colors: false });
}

function cut(text: string): string {
  return text.length > maxDetail ? `${text.slice(0, maxDetail - 1)}…` : text;
}

// The last six characters of a message id (a per-thread prefix, then a counter) tell messages in a session apart.
function short(id: string | undefined): string {
  return (id ?? "?").slice(-6);
}
