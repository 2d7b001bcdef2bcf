import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One span as the collector received it over OTLP/HTTP (JSON), flattened. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's numbering: 4 producer, 5 consumer. */
  kind: number;
  /** OTLP's numbering: 2 error. */
  statusCode: number;
  statusMessage: string | undefined;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  events: string[];
}

export const PRODUCER = 4;
export const CONSUMER = 5;
export const STATUS_ERROR = 2;

type OtlpAttribute = { key: string; value: Record<string, unknown> };

function attributes(list: OtlpAttribute[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    const raw = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
    out[key] = typeof raw === "string" && value.intValue !== undefined ? Number(raw) : raw;
  }
  return out;
}

/** A small OTLP/HTTP trace collector on localhost: what an exporter sends to `url`, kept as spans. */
export class OtlpCollector {
  readonly spans: CollectedSpan[] = [];
  #server: Server;
  #waiters = new Set<() => void>();

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<OtlpCollector> {
    const server = createServer();
    const collector = new OtlpCollector(server);
    server.on("request", (request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        try {
          collector.#take(JSON.parse(Buffer.concat(chunks).toString("utf8")));
          response.writeHead(200, { "content-type": "application/json" }).end("{}");
        } catch (error) {
          response.writeHead(400).end(String(error));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return collector;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/traces`;
  }

  /** Resolves once `test` holds of the spans received so far; rejects after `timeoutMs` saying what came. */
  until(test: (spans: CollectedSpan[]) => boolean, timeoutMs = 20_000): Promise<void> {
    if (test(this.spans)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!test(this.spans)) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`the spans expected did not come in ${timeoutMs} ms; received: ${this.spans.map((span) => span.name).join(", ") || "none"}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #take(body: { resourceSpans?: Array<{ resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: Array<{ spans?: Array<Record<string, unknown>> }> }> }): void {
    for (const { resource, scopeSpans } of body.resourceSpans ?? []) {
      const resourceAttributes = attributes(resource?.attributes);
      for (const { spans } of scopeSpans ?? []) {
        for (const span of spans ?? []) {
          const status = (span.status ?? {}) as { code?: number; message?: string };
          this.spans.push({
            traceId: span.traceId as string,
            spanId: span.spanId as string,
            parentSpanId: (span.parentSpanId as string | undefined) || undefined,
            name: span.name as string,
            kind: span.kind as number,
            statusCode: status.code ?? 0,
            statusMessage: status.message,
            attributes: attributes(span.attributes as OtlpAttribute[]),
            resource: resourceAttributes,
            events: ((span.events ?? []) as Array<{ name: string }>).map((event) => event.name),
          });
        }
      }
    }
    for (const waiter of [...this.#waiters]) waiter();
  }
}
