/**
 * `agentspace exchange`: Academy's HTTP exchange protocol on Node's own
 * http server. Each route parses its body at the boundary (wire.ts),
 * authenticates (auth.ts) and calls the mailboxes (mailboxes.ts).
 */
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { checkPort, closeServer, listenOn } from "../http-listen.js";
import { callerOf, loadTokens, tokensOf, type Tokens } from "./auth.js";
import { MemoryJournal, RedisJournal, type Journal } from "./journal.js";
import { DEFAULT_LIMITS, eventId, lastSeenOf, MailboxRefusal, Mailboxes, type Caller, type MailboxLimits } from "./mailboxes.js";
import { entityIdFromJson, MAX_BATCH_BODY_BYTES, MAX_BATCH_MESSAGES, messageFromJson, WireError, type EntityId, type PutResult } from "./wire.js";

export interface ExchangeOptions {
  /** 0 (the default): any free port. */
  port?: number;
  /** Default 127.0.0.1: an exchange reachable from elsewhere is asked for. */
  host?: string;
  /** Keep mailboxes in Redis (they outlive a restart), under `redisPrefix` (default "agentspace-exchange:"). */
  redis?: string;
  redisPrefix?: string;
  /** Bearer tokens: a tokens file's path, or its content (`{ "<token>": { client, groups } }`). Without it everyone is the one anonymous client. */
  auth?: string | Record<string, { client: string; groups?: string[] }>;
  /** Serve HTTPS with this certificate and key (PEM file paths). */
  tls?: { cert: string; key: string };
  /** The longest listen or receive a client may ask for, in seconds (Academy's default 60). */
  listenTimeoutS?: number;
  /** How often an idle event stream gets `: ping` (Academy's 15 s). */
  pingIntervalMs?: number;
  limits?: Partial<MailboxLimits>;
  /** Problems that concern no one request (Redis lost); default: printed to stderr. */
  onError?: (error: Error) => void;
}

const SSE_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache",
  Connection: "keep-alive",
  "X-Accel-Buffering": "no",
};

/** How long an event stays unconfirmed on an open stream before a ping confirms it (see `listen`). */
const CONFIRM_MS = 1_000;
/** The largest body of any route but PUT /message and PUT /messages. */
const SMALL_BODY_BYTES = 64 * 1024;

/** A reply that ends a request: Academy's status code and its text. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class Exchange {
  readonly url: string;
  readonly #server: Server;
  readonly #mailboxes: Mailboxes;
  readonly #tokens: Tokens | undefined;
  readonly #listenTimeoutS: number;
  readonly #pingIntervalMs: number;
  readonly #onError: (error: Error) => void;
  #closing: Promise<void> | undefined;

  private constructor(server: Server, url: string, mailboxes: Mailboxes, tokens: Tokens | undefined, options: ExchangeOptions, onError: (error: Error) => void) {
    this.#server = server;
    this.url = url;
    this.#mailboxes = mailboxes;
    this.#tokens = tokens;
    this.#listenTimeoutS = options.listenTimeoutS ?? 60;
    this.#pingIntervalMs = options.pingIntervalMs ?? 15_000;
    this.#onError = onError;
  }

  /** Starts an exchange; resolves once it listens (its `url` says where). */
  static async start(options: ExchangeOptions = {}): Promise<Exchange> {
    const port = options.port ?? 0;
    checkPort(port);
    const tokens = options.auth === undefined ? undefined : typeof options.auth === "string" ? loadTokens(options.auth) : tokensOf(options.auth, "auth");
    const onError = options.onError ?? ((error: Error) => console.error(`agentspace exchange: ${error.message}`));
    const journal: Journal = options.redis
      ? await RedisJournal.open(options.redis, options.redisPrefix ?? "agentspace-exchange:", onError)
      : new MemoryJournal();
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`limits.${name} must be a positive whole number of bytes, not ${String(value)}`);
    }
    const mailboxes = await Mailboxes.open(journal, limits);
    let handle: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
    const listener = (request: IncomingMessage, response: ServerResponse) => handle(request, response);
    const server = options.tls
      ? createHttpsServer({ cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }, listener)
      : createHttpServer(listener);
    server.keepAliveTimeout = 75_000; // past Academy's client's own keep-alive
    let url: string;
    try {
      url = await listenOn(server as Server, port, options.host ?? "127.0.0.1");
    } catch (error) {
      await mailboxes.close();
      throw error;
    }
    if (options.tls) url = url.replace(/^http:/, "https:");
    const exchange = new Exchange(server as Server, url, mailboxes, tokens, options, onError);
    handle = (request, response) => exchange.#handle(request, response);
    return exchange;
  }

  /**
   * Stops listening, cuts every stream and closes the journal. What a stream
   * delivered and nobody confirmed stays; a client that reconnects after a
   * restart says with Last-Event-Id what it got (see Mailboxes.wait).
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await closeServer(this.#server);
      await this.#mailboxes.close();
    })();
    return this.#closing;
  }

  #handle(request: IncomingMessage, response: ServerResponse): void {
    if (this.#closing !== undefined) {
      // A listen opened now would take messages and be cut off: the client tries again after the restart.
      request.resume();
      response.setHeader("Connection", "close");
      return reply(response, 503, "The exchange is shutting down");
    }
    const path = (request.url ?? "/").split("?")[0]!;
    const route = `${request.method ?? "GET"} ${path}`;
    const run = this.#route(route, request, response);
    if (run === undefined) {
      reply(response, 404, "Not Found");
      request.resume();
      return;
    }
    run.catch((error: unknown) => {
      const refused = refusalOf(error);
      if (refused) return reply(response, refused.status, refused.text);
      this.#onError(new Error(`${route} failed`, { cause: error }));
      reply(response, 500, "Internal Server Error");
    });
  }

  #route(route: string, request: IncomingMessage, response: ServerResponse): Promise<void> | undefined {
    const mailboxes = this.#mailboxes;
    switch (route) {
      case "POST /mailbox":
        return this.#run(request, response, async (caller, body) => {
          const agent = body.agent;
          if (agent !== undefined && agent !== null && typeof agent !== "string") throw new WireError("agent must be a string");
          await mailboxes.create(caller, mailboxOf(body), typeof agent === "string" ? agent.split(",") : undefined);
          reply(response, 200);
        });
      case "GET /mailbox":
        return this.#run(request, response, async (caller, body) => {
          json(response, { status: mailboxes.status(caller, mailboxOf(body)).status });
        });
      case "DELETE /mailbox":
        return this.#run(request, response, async (caller, body) => {
          await mailboxes.terminate(caller, mailboxOf(body));
          reply(response, 200);
        });
      case "PUT /message":
        return this.#run(request, response, async (caller, body) => {
          const text = body.message;
          const message = messageFromJson(text);
          await mailboxes.put(caller, message, JSON.stringify(message));
          reply(response, 200);
        }, this.#messageBodyBytes());
      case "PUT /messages":
        // agentspace's own: many messages in one request, taken in order (HttpSpace sends so to this exchange).
        return this.#run(request, response, async (caller, body) => json(response, { results: await this.#putAll(caller, body.messages) }), this.#batchBodyBytes());
      case "GET /message":
        return this.#run(request, response, async (caller, body) => this.#receive(caller, mailboxOf(body), this.#timeoutOf(body), request, response));
      case "GET /mailbox/listen":
        return this.#run(request, response, async (caller, body) => this.#listen(caller, mailboxOf(body), this.#timeoutOf(body), request, response));
      case "GET /mailbox/listeners":
        // agentspace's own: how many listen on a mailbox, so that HttpSpace can refuse an id held elsewhere.
        return this.#run(request, response, async (caller, body) => {
          json(response, { listeners: mailboxes.status(caller, mailboxOf(body)).listeners });
        });
      case "GET /discover":
        return this.#run(request, response, async (caller, body) => {
          const { agent, allow_subclasses: subclasses } = body;
          if (typeof agent !== "string") throw new WireError("agent must be a string");
          if (typeof subclasses !== "boolean") throw new WireError("allow_subclasses must be a boolean");
          json(response, { agent_ids: mailboxes.discover(caller, agent, subclasses).join(",") });
        });
      case "GET /mailbox/heartbeat":
        return this.#run(request, response, async (caller, body) => {
          const id = mailboxOf(body);
          mailboxes.status(caller, id); // the permission check
          json(response, { heartbeat: mailboxes.heartbeat(id) });
        });
      case "GET /mailbox/stats":
        return this.#run(request, response, async (caller, body) => {
          const id = mailboxOf(body);
          mailboxes.status(caller, id);
          json(response, mailboxes.stats(id));
        });
      case "POST /mailbox/share":
      case "DELETE /mailbox/share":
        return this.#run(request, response, async (caller, body) => {
          const group = body.group_id;
          if (typeof group !== "string" || group.length === 0) throw new WireError("group_id must be a string");
          await mailboxes.share(caller, mailboxOf(body), group, route.startsWith("POST"));
          reply(response, 200);
        });
      case "GET /mailbox/share":
        return this.#run(request, response, async (caller, body) => {
          json(response, { group_ids: mailboxes.shares(caller, mailboxOf(body)) });
        });
      default:
        return undefined;
    }
  }

  // The JSON string a message travels in escapes its quotes: room for that, then the limit applies to the message itself.
  #messageBodyBytes(): number {
    return 2 * this.#mailboxes.limits.maxMessageBytes + SMALL_BODY_BYTES;
  }

  #batchBodyBytes(): number {
    return Math.max(MAX_BATCH_BODY_BYTES, this.#messageBodyBytes());
  }

  /**
   * PUT /messages: each message as PUT /message would take it, in order, each
   * with its own status. When the journal fails at one, it and the rest are
   * 503 (not taken), so that the sender sends again exactly those.
   */
  async #putAll(caller: Caller, messages: unknown): Promise<PutResult[]> {
    if (!Array.isArray(messages) || messages.length > MAX_BATCH_MESSAGES) throw new WireError(`messages must be an array of at most ${MAX_BATCH_MESSAGES} strings`);
    const results: PutResult[] = [];
    for (let i = 0; i < messages.length; i++) {
      const text: unknown = messages[i];
      try {
        const message = messageFromJson(text);
        await this.#mailboxes.put(caller, message, JSON.stringify(message));
        results.push({ status: 200 });
      } catch (error) {
        const refused = refusalOf(error);
        if (refused) results.push(refused);
        else {
          this.#onError(new Error("PUT /messages failed", { cause: error }));
          while (results.length < messages.length) results.push({ status: 503, text: `not taken: ${(error as Error).message}` });
        }
      }
    }
    return results;
  }

  /** Authenticates, reads and parses the JSON body (every route has one, GET too), then runs `route`. */
  async #run(
    request: IncomingMessage,
    response: ServerResponse,
    route: (caller: Caller, body: Record<string, unknown>) => Promise<void>,
    maxBytes = SMALL_BODY_BYTES,
  ): Promise<void> {
    const caller = callerOf(this.#tokens, request.headers);
    if ("status" in caller) {
      request.resume();
      throw new Refusal(caller.status, caller.text);
    }
    const body = await readJson(request, response, maxBytes, this.#mailboxes.limits.maxMessageBytes);
    if (body === undefined) return; // refused as too large, already answered
    await route(caller, body);
  }

  #timeoutOf(body: Record<string, unknown>): number {
    const timeout = body.timeout ?? this.#listenTimeoutS;
    if (typeof timeout !== "number" || !(timeout > 0 && timeout <= this.#listenTimeoutS)) {
      throw new Refusal(400, `Invalid timeout (must be less than ${this.#listenTimeoutS} and greater than 0)`);
    }
    return timeout;
  }

  #checkListenable(caller: Caller, id: EntityId): void {
    const { status } = this.#mailboxes.status(caller, id);
    if (status === "MISSING") throw new Refusal(404, "Unknown mailbox ID");
    if (status === "TERMINATED") throw new Refusal(419, "Mailbox was closed");
  }

  /**
   * GET /message: one message, or 408 after `timeout` seconds. The waiter
   * goes when its connection does (Academy's stays and takes the next message
   * to a dead socket); the message leaves once the answer was written out.
   */
  async #receive(caller: Caller, id: EntityId, timeoutS: number, request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.#checkListenable(caller, id);
    const mailboxes = this.#mailboxes;
    let stop = (): void => undefined;
    const timer = setTimeout(() => {
      stop();
      reply(response, 408, "Request timeout");
    }, timeoutS * 1000);
    const gone = () => {
      clearTimeout(timer);
      stop();
    };
    response.once("close", gone);
    stop = mailboxes.wait(caller, id, {
      offer: (entry, delivery) => {
        clearTimeout(timer);
        response.off("close", gone);
        let sent = false;
        response.once("finish", () => {
          sent = true;
          mailboxes.acknowledge(id, [delivery]);
        });
        response.once("close", () => {
          if (!sent) mailboxes.giveBack(id, [delivery]);
        });
        json(response, { message: entry.text });
        return false;
      },
      terminated: () => {
        gone();
        reply(response, 419, "Mailbox was closed");
      },
    }, lastSeenIn(request));
  }

  /**
   * GET /mailbox/listen: Server-Sent Events, one `data:` per message with an
   * `id:`, `: ping` every 15 s, ended after `timeout` seconds without a
   * message. An event is acknowledged when a ping written a second after it
   * on the still-open stream completed, when the stream ended cleanly, or
   * when a later listen names it in Last-Event-Id. What a dropped stream had
   * not confirmed comes again to the next listener.
   */
  async #listen(caller: Caller, id: EntityId, timeoutS: number, request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.#checkListenable(caller, id);
    const mailboxes = this.#mailboxes;
    response.writeHead(200, SSE_HEADERS);
    response.flushHeaders();
    // Deliveries written and not yet confirmed, with when each was written.
    let unconfirmed: { delivery: number; at: number }[] = [];
    let open = true;
    let confirmTimer: NodeJS.Timeout | undefined;
    // A ping confirms what was written at least CONFIRM_MS before it: time enough for a
    // dead connection to show (a write completing says only that the kernel took it).
    const ping = () => {
      const now = Date.now();
      const confirming = unconfirmed.filter((item) => now - item.at >= CONFIRM_MS).map((item) => item.delivery);
      unconfirmed = unconfirmed.filter((item) => now - item.at < CONFIRM_MS);
      response.write(": ping\r\n\r\n", (error) => {
        if (error || !open) return mailboxes.dropped(id, confirming);
        mailboxes.acknowledge(id, confirming);
      });
      armConfirm();
    };
    const armConfirm = () => {
      if (confirmTimer !== undefined || unconfirmed.length === 0 || !open) return;
      confirmTimer = setTimeout(() => {
        confirmTimer = undefined;
        if (open) ping();
      }, CONFIRM_MS - (Date.now() - unconfirmed[0]!.at) + 5);
    };
    let idle = setTimeout(() => finish(), timeoutS * 1000);
    const keepAlive = setInterval(ping, this.#pingIntervalMs);
    const finish = () => {
      if (!open) return;
      const last = unconfirmed.map((item) => item.delivery);
      unconfirmed = [];
      cleanUp();
      response.end(() => mailboxes.acknowledge(id, last));
    };
    const cleanUp = () => {
      open = false;
      clearTimeout(idle);
      clearTimeout(confirmTimer);
      clearInterval(keepAlive);
      stop();
    };
    let stop = (): void => undefined;
    let corked = false;
    response.once("close", () => {
      if (!open) return;
      cleanUp();
      mailboxes.dropped(id, unconfirmed.map((item) => item.delivery));
    });
    stop = mailboxes.wait(caller, id, {
      offer: (entry, delivery) => {
        // The events of one turn (a batch put) leave in one write.
        if (!corked) {
          corked = true;
          response.cork();
          process.nextTick(() => {
            corked = false;
            response.uncork();
          });
        }
        response.write(`id: ${eventId(entry)}\r\ndata: ${entry.text}\r\n\r\n`);
        unconfirmed.push({ delivery, at: Date.now() });
        clearTimeout(idle);
        idle = setTimeout(() => finish(), timeoutS * 1000);
        armConfirm();
        return true;
      },
      terminated: () => finish(),
    }, lastSeenIn(request));
    if (!open) stop();
  }
}

/** The status and text that refuse a request for `error`, as Academy's server gives them; undefined for a failure of ours. */
function refusalOf(error: unknown): { status: number; text: string } | undefined {
  if (error instanceof Refusal || error instanceof MailboxRefusal) return { status: error.status, text: error.message };
  if (error instanceof WireError) return { status: 400, text: `Missing or invalid field: ${error.message}` };
  return undefined;
}

/** What a reconnecting listen's Last-Event-Id header says it got last. */
function lastSeenIn(request: IncomingMessage): bigint | undefined {
  const header = request.headers["last-event-id"];
  return typeof header === "string" ? lastSeenOf(header) : undefined;
}

function mailboxOf(body: Record<string, unknown>): EntityId {
  return entityIdFromJson(body.mailbox);
}

function reply(response: ServerResponse, status: number, text?: string): void {
  if (response.headersSent) {
    if (!response.writableEnded) response.end();
    return;
  }
  if (text === undefined) {
    response.writeHead(status, { "Content-Length": 0 }).end();
    return;
  }
  const body = Buffer.from(text, "utf8");
  response.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length }).end(body);
}

function json(response: ServerResponse, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  response.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": body.length }).end(body);
}

/**
 * Reads a JSON object body of at most `maxBytes`. A larger one is answered
 * with Academy's 413 at once (its own server reads it all first) and the
 * rest is read and dropped, so the client sees the answer; resolves undefined then.
 */
async function readJson(request: IncomingMessage, response: ServerResponse, maxBytes: number, messageLimit: number): Promise<Record<string, unknown> | undefined> {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  const tooLarge = (size: number) => {
    response.setHeader("Connection", "close");
    reply(response, 413, `Message of size ${size} larger than limit ${messageLimit}.`);
    request.resume();
  };
  if (declared > maxBytes) {
    tooLarge(declared);
    return undefined;
  }
  // Events, not `for await`: leaving that loop early would destroy the socket before the 413 is read.
  const chunks = await new Promise<Buffer[] | undefined>((resolve, reject) => {
    const read: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void read.push(chunk);
      request.off("data", onData);
      tooLarge(size);
      resolve(undefined);
    };
    request.on("data", onData);
    request.once("end", () => resolve(read));
    request.once("error", reject);
  });
  if (chunks === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new WireError("the body must be JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new WireError("the body must be a JSON object");
  return value as Record<string, unknown>;
}
