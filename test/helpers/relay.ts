import { connect, createServer, type Server, type Socket } from "node:net";

/** A TCP relay in front of a port: what passes through it can be cut, as a network fault would. */
export class Relay {
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  /** Listens on `port` (0: any free one) and relays each connection to `target`. */
  async start(target: number, port = 0): Promise<void> {
    const server = createServer((inbound) => {
      const outbound = connect({ host: "127.0.0.1", port: target });
      for (const socket of [inbound, outbound]) {
        this.#sockets.add(socket);
        socket.on("error", () => {});
        socket.on("close", () => {
          this.#sockets.delete(socket);
          inbound.destroy();
          outbound.destroy();
        });
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
  }

  /** Destroys every connection through it (new ones are relayed again). */
  cut(): number {
    const cut = this.#sockets.size;
    for (const socket of this.#sockets) socket.destroy();
    return cut;
  }

  close(): Promise<void> {
    this.cut();
    const server = this.#server;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}
