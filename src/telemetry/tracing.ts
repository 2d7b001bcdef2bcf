/**
 * OpenTelemetry traces of messages, through `@opentelemetry/api` alone (an
 * optional peer dependency; the application registers an SDK). Nothing here
 * runs on a message unless an SDK is registered in the thread: the hot
 * paths test one variable (`activeTracing()`), refreshed where a thread
 * starts agents, never looked up per message.
 *
 * Each `send`/`request` makes a PRODUCER span, its context written into the
 * message's `meta.traceparent` (W3C, and `meta.tracestate`): the message
 * carries it across threads, processes and brokers unchanged. Each handled
 * action makes a CONSUMER span, a child of that context.
 */
import { createRequire } from "node:module";
import type { Message } from "../message.js";

// The parts of @opentelemetry/api used here, typed here: the package is an
// optional peer, and no declaration file of agentspace may need it installed.
type Context = object;
type Attributes = Record<string, string | number | boolean>;
interface SpanContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  isRemote?: boolean;
  traceState?: { serialize(): string };
}
/** An OpenTelemetry span, as this file uses it. */
export interface Span {
  spanContext(): SpanContext;
  recordException(error: Error): void;
  setStatus(status: { code: number; message?: string }): void;
  end(): void;
}
interface Tracer {
  startSpan(name: string, options: { kind: number; attributes: Attributes }, context: Context): Span;
}
interface Api {
  trace: {
    getTracer(name: string): Tracer;
    getTracerProvider(): unknown;
    getSpan(context: Context): Span | undefined;
    setSpan(context: Context, span: Span): Context;
    setSpanContext(context: Context, spanContext: SpanContext): Context;
  };
  context: {
    active(): Context;
    with<A extends unknown[], R>(context: Context, fn: (...args: A) => R, thisArg: undefined, ...args: A): R;
  };
  SpanKind: { PRODUCER: number; CONSUMER: number };
  SpanStatusCode: { ERROR: number };
  ROOT_CONTEXT: Context;
  isSpanContextValid(spanContext: SpanContext): boolean;
  createTraceState(text: string): { serialize(): string };
}

/** Where the API keeps what was registered (its tracer provider…): shared by every copy of the API in the thread. */
const REGISTERED = Symbol.for("opentelemetry.js.api.1");

// W3C trace context, version 00 (and later versions' first four fields): an all-zero id is invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-|$)/;
const MAX_TRACEPARENT = 256;
/** W3C: at most 512 characters. */
const MAX_TRACESTATE = 512;

let api: Api | null | undefined;
let tracing: MessageTracing | undefined;
let warned = false;

/** This thread's tracing, or undefined when no SDK is registered here (every hook then does nothing). */
export function activeTracing(): MessageTracing | undefined {
  return tracing;
}

/**
 * Looks again for a registered SDK: called when a space is made, before each
 * agent starts, and in a worker thread after its telemetry module ran.
 */
export function refreshTracing(): MessageTracing | undefined {
  const registered = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[REGISTERED]?.trace !== undefined;
  if (!registered) return (tracing = undefined);
  if (tracing) return tracing;
  api ??= loadApi();
  if (api) tracing = new MessageTracing(api);
  return tracing;
}

function loadApi(): Api | null {
  // From the package first, then from the application (a bundle may sit outside either's node_modules).
  for (const from of [import.meta.url, `${process.cwd()}/`]) {
    try {
      return createRequire(from)("@opentelemetry/api") as Api;
    } catch {
      // try the next place
    }
  }
  if (!warned) {
    warned = true;
    process.emitWarning("an OpenTelemetry SDK is registered, but agentspace cannot load @opentelemetry/api: install it beside agentspace (npm install @opentelemetry/api) for traces of messages", {
      code: "AGENTSPACE_NO_OTEL_API",
    });
  }
  return null;
}

/** What a span of a message says of it (OpenTelemetry's messaging conventions, and agentspace's own). */
function attributesOf(message: Message, operation: "send" | "request" | "process", receiver: string): Attributes {
  return {
    "messaging.system": "agentspace",
    "messaging.operation.name": operation,
    "messaging.operation.type": operation === "process" ? "process" : "send",
    "messaging.destination.name": message.to,
    "messaging.message.id": message.meta.id,
    "agentspace.action": message.action.name,
    "agentspace.sender": message.from,
    "agentspace.receiver": receiver,
  };
}

/** The spans of one thread's messages, made with the registered SDK. */
export class MessageTracing {
  readonly #api: Api;
  readonly #tracer: Tracer;
  /** The CONSUMER span of each message being handled: the parent of what its action sends when no context manager carries it. */
  readonly #handling = new WeakMap<Message, Span>();

  constructor(otel: Api) {
    this.#api = otel;
    this.#tracer = otel.trace.getTracer("agentspace");
  }

  /**
   * A PRODUCER span for `message`, sent while its sender handles `handling`
   * (if any); its context goes into the message's meta. The caller ends it
   * (see `ended`): at once for a send, when the answer comes for a request.
   */
  sent(message: Message, operation: "send" | "request", handling: Message | undefined): Span {
    const otel = this.#api;
    let parent = otel.context.active();
    if (handling !== undefined && otel.trace.getSpan(parent) === undefined) {
      const consumer = this.#handling.get(handling);
      if (consumer) parent = otel.trace.setSpan(parent, consumer);
    }
    const span = this.#tracer.startSpan(
      `${operation} ${message.action.name}`,
      { kind: otel.SpanKind.PRODUCER, attributes: attributesOf(message, operation, message.to) },
      parent,
    );
    const context = span.spanContext();
    if (otel.isSpanContextValid(context)) {
      const meta = message.meta;
      meta.traceparent = `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, "0")}`;
      const state = context.traceState?.serialize();
      if (state) meta.tracestate = state;
    }
    return span;
  }

  /** A CONSUMER span for `message`, handled by `receiver` (of class `agentClass`), a child of the context it carries. */
  handling(message: Message, receiver: string, agentClass: string): Span {
    const otel = this.#api;
    const attributes = attributesOf(message, "process", receiver);
    attributes["agentspace.agent_class"] = agentClass;
    const span = this.#tracer.startSpan(message.action.name, { kind: otel.SpanKind.CONSUMER, attributes }, this.#carried(message));
    this.#handling.set(message, span);
    return span;
  }

  /** Runs `fn` with `span` as the active span: spans the action makes itself become its children (with a context manager registered). */
  within<A extends unknown[], R>(span: Span, fn: (...args: A) => R, ...args: A): R {
    const otel = this.#api;
    return otel.context.with(otel.trace.setSpan(otel.context.active(), span), fn, undefined, ...args);
  }

  /** Ends `span`: an error recorded on it, and its status set, when `ok` is false. */
  ended(span: Span, ok: boolean, outcome?: unknown): void {
    if (!ok) {
      const error = outcome instanceof Error ? outcome : new Error(String(outcome));
      span.recordException(error);
      span.setStatus({ code: this.#api.SpanStatusCode.ERROR, message: `${error.name}: ${error.message}` });
    }
    span.end();
  }

  /** The context `message` carries (checked: it came from anywhere), or none: its span then starts a trace. */
  #carried(message: Message): Context {
    const otel = this.#api;
    const { traceparent, tracestate } = message.meta;
    if (typeof traceparent !== "string" || traceparent.length > MAX_TRACEPARENT) return otel.ROOT_CONTEXT;
    const fields = TRACEPARENT.exec(traceparent);
    // Version ff is invalid; version 00 has exactly four fields.
    if (!fields || fields[1] === "ff" || (fields[1] === "00" && traceparent.length !== 55)) return otel.ROOT_CONTEXT;
    const context: SpanContext = { traceId: fields[2]!, spanId: fields[3]!, traceFlags: parseInt(fields[4]!, 16) & 1, isRemote: true };
    if (!otel.isSpanContextValid(context)) return otel.ROOT_CONTEXT;
    if (typeof tracestate === "string" && tracestate.length > 0 && tracestate.length <= MAX_TRACESTATE) {
      context.traceState = otel.createTraceState(tracestate);
    }
    return otel.trace.setSpanContext(otel.ROOT_CONTEXT, context);
  }
}

/**
 * Sends what this thread's SDK still holds (a batching span processor's
 * queue) before the thread ends: a worker's buffered spans would be lost.
 * The thread's end bounds the wait (see WorkerThread.end).
 */
export async function flushTraces(): Promise<void> {
  if (!api || !tracing) return;
  const provider = api.trace.getTracerProvider() as { getDelegate?(): unknown };
  const delegate = (provider.getDelegate?.() ?? provider) as { forceFlush?(): Promise<void> };
  if (typeof delegate.forceFlush === "function") await delegate.forceFlush().catch(() => undefined);
}
