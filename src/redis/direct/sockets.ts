import { createServer as createTcpServer, connect as connectTcp, isIP, type Server, type Socket } from "node:net";
import { hostname } from "node:os";
import { createServer as createTlsServer, connect as connectTls } from "node:tls";
import type { DirectOptions, DirectTlsOptions } from "../options.js";

/** Connections this process takes at once, at most: one per peer process is the rule, so this is room for many peers. */
const MAX_CONNECTIONS = 4_096;

/** Listens as `options` say; resolves with the server and the address peers should dial (`host:port`). */
export async function listen(options: DirectOptions & { port: number; host: string }, accept: (socket: Socket) => void): Promise<{ server: Server; address: string }> {
  const server = options.tls ? createTlsServer({ ...tlsOf(options.tls), requestCert: options.tls.ca !== undefined }, accept) : createTcpServer(accept);
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(new Error(`cannot listen for direct connections on ${options.host}:${options.port}: ${error.message}`, { cause: error })));
    server.listen(options.port, options.host, () => {
      server.removeAllListeners("error");
      server.on("error", () => {}); // a failed accept concerns that one peer, which falls back to Redis
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound ? bound.port : options.port;
  return { server, address: advertised(options, port) };
}

/** A connection to `address` (`host:port`, `[v6]:port`); errors come as the socket's events. */
export function dial(address: string, tls: DirectTlsOptions | undefined): Socket {
  const { host, port } = parseAddress(address);
  if (!tls) return connectTcp({ host, port });
  return connectTls({ ...tlsOf(tls), host, port, servername: tls.servername ?? (isIP(host) ? undefined : host) });
}

export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  if (colon <= 0 || !Number.isSafeInteger(port) || port < 1 || port > 65_535) throw new TypeError(`"${address.slice(0, 80)}" is not a host:port address`);
  return { host, port };
}

function advertised(options: DirectOptions & { host: string }, port: number): string {
  const given = options.advertise;
  if (given !== undefined) return /:\d+$/.test(given) && isIP(given) !== 6 ? given : `${hostPart(given)}:${port}`;
  // Listening on every interface names none: the host's name is what others can resolve.
  const host = options.host === "0.0.0.0" || options.host === "::" ? hostname() : options.host;
  return `${hostPart(host)}:${port}`;
}

function hostPart(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

function tlsOf(tls: DirectTlsOptions): { key?: string | Buffer; cert?: string | Buffer; ca?: string | Buffer | Array<string | Buffer>; rejectUnauthorized: boolean } {
  return { key: tls.key, cert: tls.cert, ca: tls.ca, rejectUnauthorized: tls.rejectUnauthorized ?? true };
}
