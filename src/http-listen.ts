import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Checks a port to listen on (0: any free one), before anything is set up for it. */
export function checkPort(port: unknown): asserts port is number {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65_535) {
    throw new RangeError(`port must be a whole number from 0 to 65535, not ${String(port)}`);
  }
}

/** Listens on `host`:`port`, rejecting on an error before it listens; resolves with `http://host:port` (an IPv6 host in brackets). */
export async function listenOn(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.address.includes(":") ? `[${address.address}]` : address.address;
  return `http://${shownHost}:${address.port}`;
}

/** Stops taking connections and ends the open ones (an event stream would hold `close` forever); resolves once closed. */
export function closeServer(server: Server): Promise<void> {
  const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  return stopped;
}
