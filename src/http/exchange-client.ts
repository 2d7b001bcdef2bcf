/**
 * Academy's exchange over HTTP, as a client: every request carries a JSON
 * body (GET and DELETE too, which `fetch` will not send), on kept-alive
 * connections; listens are Server-Sent Event streams read line by line.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { rootCertificates as tlsRootCertificates } from "node:tls";

export interface Reply {
  status: number;
  text: string;
}

/** A request that never got an answer: the exchange could not be reached, or the connection broke. */
export class UnreachableError extends Error {}

/** The longest error text kept from a reply (an exchange's error bodies are one line). */
const MAX_TEXT = 64 * 1024;

/** The codes Node gives a TLS certificate it cannot verify. */
const UNTRUSTED_CERTIFICATE = new Set(["DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_UNTRUSTED"]);

function certificateFix(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === undefined || !UNTRUSTED_CERTIFICATE.has(code)) return "";
  return " (the exchange's certificate is not one this process trusts: pass its certificate, PEM, as new HttpSpace({ url, ca }), or name it in NODE_EXTRA_CA_CERTS)";
}

export class ExchangeClient {
  readonly url: URL;
  readonly #headers: Record<string, string>;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;

  /** `ca`: the PEM certificate(s) to trust for an https:// exchange, beside the system's. */
  constructor(url: string, token: string | undefined, ca?: string) {
    this.url = new URL(url);
    if (this.url.protocol !== "http:" && this.url.protocol !== "https:") throw new TypeError(`the exchange's url must be http:// or https://, not ${url}`);
    const https = this.url.protocol === "https:";
    this.#agent = https ? new HttpsAgent({ keepAlive: true, ...(ca === undefined ? {} : { ca: [...tlsRootCertificates, ca] }) }) : new HttpAgent({ keepAlive: true });
    this.#request = https ? (httpsRequest as typeof httpRequest) : httpRequest;
    this.#headers = { "Content-Type": "application/json", ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }) };
  }

  #path(path: string): string {
    return `${this.url.pathname.replace(/\/$/, "")}${path}`;
  }

  #open(method: string, path: string, body: unknown, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> {
    const payload = Buffer.from(JSON.stringify(body), "utf8");
    return new Promise((resolve, reject) => {
      const request = this.#request(
        this.url,
        { method, path: this.#path(path), agent: this.#agent, headers: { ...this.#headers, ...headers, "Content-Length": String(payload.length) }, signal },
        resolve,
      );
      request.once("error", (error) => reject(signal?.aborted ? error : new UnreachableError(`${method} ${path} to the exchange at ${this.url.origin} failed: ${error.message}${certificateFix(error)}`, { cause: error })));
      request.end(payload);
    });
  }

  /** One request; resolves with the status and the body's text. */
  async call(method: "GET" | "POST" | "PUT" | "DELETE", path: string, body: unknown): Promise<Reply> {
    const response = await this.#open(method, path, body, {});
    let text = "";
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) if (text.length < MAX_TEXT) text += chunk.toString("utf8");
    } catch (error) {
      throw new UnreachableError(`${method} ${path}: the exchange's reply broke off: ${(error as Error).message}`, { cause: error });
    }
    return { status: response.statusCode ?? 0, text };
  }

  /**
   * Opens a listen and calls `event` with each message's `id` and `data`
   * until the stream ends (resolves 200) or `signal` aborts; a refused listen
   * resolves with its status and text at once.
   */
  async listen(body: unknown, lastEventId: string | undefined, signal: AbortSignal, event: (id: string | undefined, data: string) => void): Promise<Reply> {
    const headers: Record<string, string> = { Accept: "text/event-stream", "Cache-Control": "no-cache", ...(lastEventId === undefined ? {} : { "Last-Event-Id": lastEventId }) };
    const response = await this.#open("GET", "/mailbox/listen", body, headers, signal);
    if (response.statusCode !== 200) {
      let text = "";
      for await (const chunk of response as AsyncIterable<Buffer>) text += chunk.toString("utf8");
      return { status: response.statusCode ?? 0, text };
    }
    let buffered = "";
    let id: string | undefined;
    let data: string[] = [];
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        buffered += chunk.toString("utf8");
        let end: number;
        while ((end = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, end).replace(/\r$/, "");
          buffered = buffered.slice(end + 1);
          if (line === "") {
            if (data.length > 0) event(id, data.join("\n"));
            id = undefined;
            data = [];
          } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          else if (line.startsWith("id:")) id = line.slice(3).trim();
          // comments (": ping") and other fields carry nothing for us
        }
      }
    } catch (error) {
      if (signal.aborted) return { status: 200, text: "" };
      throw new UnreachableError(`the listen on the exchange at ${this.url.origin} broke off: ${(error as Error).message}`, { cause: error });
    }
    if (!response.complete && !signal.aborted) throw new UnreachableError(`the listen on the exchange at ${this.url.origin} broke off`);
    return { status: 200, text: "" };
  }

  close(): void {
    this.#agent.destroy();
  }
}
