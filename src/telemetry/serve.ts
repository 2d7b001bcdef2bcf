import { createServer } from "node:http";
import { checkPort, closeServer, listenOn } from "../http-listen.js";
import { METRICS_CONTENT_TYPE } from "./metrics.js";

export interface MetricsServerOptions {
  /** 0 (the default): any free port. */
  port?: number;
  /** Default 127.0.0.1: only this machine may scrape; give "0.0.0.0" (or an address) for a Prometheus elsewhere. */
  host?: string;
}

/** What `space.serveMetrics()` gives: where Prometheus scrapes it, and how to stop. */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

/** Serves `read()` at `/metrics` (GET or HEAD), in Prometheus's text format. */
export async function serveMetrics(read: () => Promise<string>, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const { port = 0, host = "127.0.0.1" } = options;
  checkPort(port);
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end("not found: metrics are at /metrics\n");
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("only GET and HEAD\n");
      return;
    }
    read().then(
      (text) => response.writeHead(200, { "content-type": METRICS_CONTENT_TYPE }).end(request.method === "HEAD" ? undefined : text),
      (error: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${String(error)}\n`),
    );
  });
  const origin = await listenOn(server, port, host);
  let closed: Promise<void> | undefined;
  return { url: `${origin}/metrics`, close: () => (closed ??= closeServer(server)) };
}
