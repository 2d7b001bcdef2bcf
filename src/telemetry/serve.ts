import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

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
export async function serveMetrics(read: () => Promise<{ text: string; contentType: string }>, options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const { port = 0, host = "127.0.0.1" } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`port must be a whole number from 0 to 65535, not ${String(port)}`);
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
      ({ text, contentType }) => response.writeHead(200, { "content-type": contentType }).end(request.method === "HEAD" ? undefined : text),
      (error: unknown) => response.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}/metrics`,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
