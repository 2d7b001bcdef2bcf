import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { AgentCrashedError } from "../errors.js";
import { checkPort, closeServer, listenOn } from "../http-listen.js";
import { METRICS_CONTENT_TYPE } from "../telemetry/metrics.js";
import { agentIdProblem } from "../message.js";
import { agentDetail } from "./agent-detail.js";
import { AgentRows } from "./agent-rows.js";
import { EventHub } from "./event-hub.js";
import { NodesView } from "./nodes.js";
import { loadPage, type PageFile } from "./page-files.js";
import { MessageSampler } from "./sampler.js";
import { newToken, tokenMatches } from "./token.js";
import { internalsOf, type Inspector, type InspectorOptions } from "../extension.js";
import type { LifecycleEvent } from "../lifecycle.js";
import type { Space } from "../space.js";
import type { InspectedSpace } from "./types.js";

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void> | void;

/** Refused with this status and a one-line reason, as JSON. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

// Every response: no caching (a token is in every URL), no referrer (it
// would carry the token elsewhere), no framing, and only the page's own
// scripts and styles, so that nothing injected could run even if escaping failed.
const securityHeaders = {
  "Cache-Control": "no-store",
  "Referrer-Policy": "no-referrer",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

const MAX_BODY_BYTES = 4096;

/** `space.openInspector(options)`. */
export function openInspector(space: object, options: InspectorOptions): Promise<Inspector> {
  const internals = internalsOf(space);
  return startInspector({ space: space as Space, debug: internals.debug !== false, describe: () => internals.describe() }, options);
}

/** Serves the page and its API for one space until closed. */
export async function startInspector(inspected: InspectedSpace, options: InspectorOptions = {}): Promise<Inspector> {
  const { port = 0, host = "127.0.0.1" } = options;
  checkPort(port);
  if (typeof host !== "string" || host.length === 0) throw new TypeError("host must be a non-empty string");

  const { space } = inspected;
  const token = newToken();
  const page = await loadPage(token);
  const rows = new AgentRows(inspected);
  const sampler = new MessageSampler(space, (id) => rows.row(id)?.className);
  const hub = new EventHub(rows, sampler, { kind: space.constructor.name, debug: inspected.debug });

  // Failures are remembered per agent (with the words the error event gives); an agent its
  // policy gave up on is shown "crashed" rather than "removed".
  const onError = (error: Error, outcome?: string): void => {
    if (error instanceof AgentCrashedError && error.agentId) sampler.crashed(error.agentId, error, outcome);
    // Listening turns off the space's own printing of errors nobody hears: print as it would.
    if (space.listenerCount("error") === 1) console.error(`[agentspace] ${error.name}: ${error.message}${outcome ? `; ${outcome}` : ""}`);
  };
  const onLifecycle = (event: LifecycleEvent): void => {
    if (event.type === "removed") rows.departed(event.id, event.cause === "failed");
  };
  space.on("error", onError);
  space.on("lifecycle", onLifecycle);

  const routes = new Map<string, Map<string, Handler>>();
  for (const [path, file] of page) routes.set(path, new Map([["GET", (_request, response) => sendFile(response, file)]]));
  routes.set("/api/snapshot", new Map([["GET", (_request, response) => sendJson(response, 200, hub.snapshot())]]));
  routes.set("/api/events", new Map([["GET", (_request, response) => hub.add(response)]]));
  // The space's Prometheus metrics, behind the page's token (serveMetrics serves them to Prometheus).
  routes.set(
    "/metrics",
    new Map<string, Handler>([
      [
        "GET",
        async (_request, response) => {
          response.writeHead(200, { "content-type": METRICS_CONTENT_TYPE }).end(await space.metrics());
        },
      ],
    ]),
  );
  const nodes = new NodesView(space);
  routes.set("/api/nodes", new Map([["GET", async (_request, response) => sendJson(response, 200, await nodes.answer())]]));
  routes.set(
    "/api/agent",
    new Map<string, Handler>([
      [
        "GET",
        async (_request, response, url) => {
          const id = agentIdFrom(url.searchParams.get("id"));
          const running = new Set(space.agents).has(id);
          const row = rows.row(id);
          if (!running && !row) throw new Refusal(404, `no agent "${id}" in this space`);
          sendJson(response, 200, await agentDetail(inspected, id, running, row, sampler.lastError(id)));
        },
      ],
    ]),
  );
  routes.set(
    "/api/remove",
    new Map<string, Handler>([
      [
        "POST",
        async (request, response) => {
          const body = await readJson(request);
          const id = agentIdFrom(typeof body === "object" && body !== null ? (body as { id?: unknown }).id : undefined);
          if (!new Set(space.agents).has(id)) throw new Refusal(404, `no agent "${id}" in this space`);
          await space.remove(id);
          sendJson(response, 200, { removed: id });
        },
      ],
    ]),
  );

  const server = createServer((request, response) => {
    for (const [name, value] of Object.entries(securityHeaders)) response.setHeader(name, value);
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof Refusal ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) sendJson(response, status, { error: message });
      else response.destroy();
    });
  });
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let url: URL;
    try {
      url = new URL(request.url ?? "/", "http://inspector.invalid");
    } catch {
      throw new Refusal(400, "a malformed request target");
    }
    // Before anything else, for every path, known or not.
    if (!tokenMatches(token, url.searchParams.get("token"))) throw new Refusal(403, "a valid token is needed: use the URL the inspector printed");
    const methods = routes.get(url.pathname);
    if (!methods) throw new Refusal(404, "no such page");
    const handler = methods.get(request.method ?? "");
    if (!handler) {
      response.setHeader("Allow", [...methods.keys()].join(", "));
      throw new Refusal(405, `${request.method} is not allowed here`);
    }
    await handler(request, response, url);
  };

  const origin = await listenOn(server, port, host);
  server.on("error", (error) => console.error(`[agentspace] inspector: ${error.message}`));

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/?token=${token}`,
    closed,
    close() {
      closing ??= (async () => {
        hub.close();
        space.off("error", onError);
        space.off("lifecycle", onLifecycle);
        await Promise.all([closeServer(server), nodes.close()]);
        resolveClosed();
      })();
      return closing;
    },
  };
}

/** An agent id from the page: untrusted, so checked as the space checks ids. */
function agentIdFrom(value: unknown): string {
  if (typeof value !== "string" || value.length === 0) throw new Refusal(400, "an agent id is needed");
  const problem = agentIdProblem(value);
  if (problem) throw new Refusal(400, problem);
  return value;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  if (!(request.headers["content-type"] ?? "").startsWith("application/json")) throw new Refusal(415, "the body must be application/json");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new Refusal(400, "the body is not JSON");
  }
}

function sendFile(response: ServerResponse, file: PageFile): void {
  response.writeHead(200, { "Content-Type": file.contentType, "Content-Length": file.body.length });
  response.end(file.body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  response.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": body.length });
  response.end(body);
}
