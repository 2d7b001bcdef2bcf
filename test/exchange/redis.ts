import { randomUUID } from "node:crypto";
import { createClient } from "redis";
import { expect, it } from "vitest";
import { Exchange } from "../../src/index.js";
import { ExchangeClient } from "../../src/http/exchange-client.js";
import { describeWithRedis, probeRedis } from "../helpers/redis.js";

const probe = await probeRedis();
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describeWithRedis("the HTTP exchange with --redis", probe, () => {
  it("keeps every mailbox and its messages across a restart, what a listen took and never confirmed included", async () => {
    const redisPrefix = `test-exchange-${randomUUID()}:`;
    const mailbox = JSON.stringify({ uid: randomUUID(), name: "kept", role: "user" });
    const src = JSON.parse(mailbox);
    const tags = [randomUUID(), randomUUID(), randomUUID()];
    let exchange = await Exchange.start({ redis: url, redisPrefix });
    let client = new ExchangeClient(exchange.url, undefined);
    try {
      await client.call("POST", "/mailbox", { mailbox });
      for (const tag of tags) {
        const message = { header: { src, dest: src, tag, label: null, kind: "request", protocol_version: "1" }, body: { kind: "ping-request" } };
        expect((await client.call("PUT", "/message", { message: JSON.stringify(message) })).status).toBe(200);
      }
      // A listen takes the first and drops before confirming it.
      const stop = new AbortController();
      await client.listen({ mailbox, timeout: 5 }, undefined, stop.signal, () => stop.abort());
      client.close();
      await exchange.close();
      exchange = await Exchange.start({ redis: url, redisPrefix });
      client = new ExchangeClient(exchange.url, undefined);
      expect(JSON.parse((await client.call("GET", "/mailbox", { mailbox })).text).status).toBe("ACTIVE");
      const received: string[] = [];
      for (let i = 0; i < 3; i++) {
        const reply = await client.call("GET", "/message", { mailbox, timeout: 3 });
        expect(reply.status).toBe(200);
        received.push(JSON.parse(JSON.parse(reply.text).message).header.tag);
      }
      expect(received).toEqual(tags);
    } finally {
      client.close();
      await exchange.close();
      const redis = createClient({ url });
      await redis.connect();
      for await (const keys of redis.scanIterator({ MATCH: `${redisPrefix}*` })) for (const key of ([] as string[]).concat(keys)) await redis.del(key);
      await redis.quit();
    }
  });
});
