/**
 * HttpSpace on an exchange with Academy's routes only: a proxy in front of
 * a real exchange that answers PUT /messages 404, as Academy's server does.
 * The space then sends a PUT /message per message, and behaves the same.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, HttpSpace, type SpaceOptions } from "../../src/index.js";
import { describeSpace } from "../behaviour/suite.js";
import { Calculator } from "../fixtures/calculator.js";
import { startExchangeProcess, type ExchangeProcess } from "./exchange-process.js";

describe("HttpSpace on an exchange without PUT /messages (Academy's routes)", () => {
  let exchange: ExchangeProcess;
  let proxy: Server;
  let url: string;
  const seen = { batches: 0, singles: 0 };
  beforeAll(async () => {
    exchange = await startExchangeProcess();
    const target = new URL(exchange.url);
    proxy = createServer((incoming, outgoing) => {
      if (incoming.method === "PUT" && incoming.url === "/messages") {
        seen.batches++;
        incoming.resume();
        outgoing.writeHead(404, { "Content-Type": "text/plain" }).end("Not Found");
        return;
      }
      if (incoming.method === "PUT" && incoming.url === "/message") seen.singles++;
      const upstream = request({ host: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      upstream.once("error", () => outgoing.destroy());
      // A listen the space drops is dropped upstream too, as a direct connection would be.
      outgoing.once("close", () => upstream.destroy());
      incoming.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await exchange.stop();
  });

  it("sends a PUT /message per message once the exchange refuses PUT /messages", async () => {
    const space = new HttpSpace({ url });
    try {
      await space.add(Calculator, "calc");
      const me = await space.addForeground(Agent, "me");
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => me.handle<Calculator>("calc").add({ a: i, b: 1 })));
      expect(answers).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(seen.batches).toBe(1); // the probe at connect
      expect(seen.singles).toBeGreaterThanOrEqual(40); // 20 requests and 20 answers
    } finally {
      await space.destroy();
    }
  });

  describeSpace("HttpSpace (PUT per message)", (options?: SpaceOptions) => new HttpSpace({ ...options, url }), { workers: true });
});
