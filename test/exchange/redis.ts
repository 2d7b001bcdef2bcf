import { randomUUID } from "node:crypto";
import { createClient } from "redis";
import { expect, it } from "vitest";
import { Agent, Exchange, HttpSpace } from "../../src/index.js";
import { ExchangeClient } from "../../src/http/exchange-client.js";
import { Sequencer } from "../fixtures/calculator.js";
import { describeWithRedis, probeRedis } from "../helpers/redis.js";
import { startExchangeProcess } from "./exchange-process.js";

const probe = await probeRedis();
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

describeWithRedis("the HTTP exchange with --redis", probe, () => {
  it("keeps every mailbox and its messages across a restart, what a listen took and never confirmed included", async () => {
    await acrossRestart(
      async (client, mailbox) => {
        // A listen takes the first and drops before confirming it.
        const stop = new AbortController();
        await client.listen({ mailbox, timeout: 5 }, undefined, stop.signal, () => stop.abort());
      },
      async (client, mailbox, tags) => {
        expect(JSON.parse((await client.call("GET", "/mailbox", { mailbox })).text).status).toBe("ACTIVE");
        const received: string[] = [];
        for (let i = 0; i < 3; i++) {
          const reply = await client.call("GET", "/message", { mailbox, timeout: 3 });
          expect(reply.status).toBe(200);
          received.push(JSON.parse(JSON.parse(reply.text).message).header.tag);
        }
        expect(received).toEqual(tags);
      },
    );
  });

  it("gives a listen that names its last event from before a restart only what came after it", async () => {
    let second: string | undefined;
    await acrossRestart(
      async (client, mailbox) => {
        // A listen gets all three and the exchange stops before any is confirmed; the client had the first two.
        const stop = new AbortController();
        const ids: (string | undefined)[] = [];
        await client.listen({ mailbox, timeout: 5 }, undefined, stop.signal, (id) => {
          ids.push(id);
          if (ids.length === 3) stop.abort();
        });
        second = ids[1];
      },
      async (client, mailbox, tags) => {
        const stop = new AbortController();
        const received: string[] = [];
        await client.listen({ mailbox, timeout: 5 }, second, stop.signal, (_id, data) => {
          received.push(JSON.parse(data).header.tag);
          stop.abort();
        });
        expect(received).toEqual([tags[2]]);
      },
    );
  });

  it("carries an HttpSpace across a restart of its exchange process: what was sent while it was down arrives, in order", async () => {
    const redisPrefix = `test-exchange-${randomUUID()}:`;
    let exchange = await startExchangeProcess(["--redis", url, "--redis-prefix", redisPrefix]);
    const port = new URL(exchange.url).port;
    const space = new HttpSpace({ url: exchange.url });
    try {
      await space.add(Sequencer, "seq");
      const me = await space.addForeground(Agent, "me");
      const seq = me.handle<Sequencer>("seq");
      for (let i = 0; i < 100; i++) me.send({ to: "seq", action: { name: "take", args: { i } } });
      expect(await seq.report()).toEqual({ received: 100, inOrder: true });
      await exchange.stop();
      // Sent while the exchange is down: the space keeps trying (10 s) until it is back.
      for (let i = 100; i < 200; i++) me.send({ to: "seq", action: { name: "take", args: { i } } });
      const report = seq.report();
      exchange = await startExchangeProcess(["--port", port, "--redis", url, "--redis-prefix", redisPrefix]);
      expect(await report).toEqual({ received: 200, inOrder: true });
    } finally {
      await space.destroy();
      await exchange.stop();
      await forget(redisPrefix);
    }
  });
});

type Step = (client: ExchangeClient, mailbox: string, tags: string[]) => Promise<void>;

/** An exchange with --redis and a mailbox holding three ping requests: `before`, a restart, `after`. */
async function acrossRestart(before: Step, after: Step): Promise<void> {
  const redisPrefix = `test-exchange-${randomUUID()}:`;
  const mailbox = JSON.stringify({ uid: randomUUID(), name: "kept", role: "user" });
  const tags = [randomUUID(), randomUUID(), randomUUID()];
  let exchange = await Exchange.start({ redis: url, redisPrefix });
  let client = new ExchangeClient(exchange.url, undefined);
  try {
    await fill(client, mailbox, tags);
    await before(client, mailbox, tags);
    client.close();
    await exchange.close();
    exchange = await Exchange.start({ redis: url, redisPrefix });
    client = new ExchangeClient(exchange.url, undefined);
    await after(client, mailbox, tags);
  } finally {
    client.close();
    await exchange.close();
    await forget(redisPrefix);
  }
}

/** Opens `mailbox` and puts a ping request to itself in it for each tag. */
async function fill(client: ExchangeClient, mailbox: string, tags: string[]): Promise<void> {
  const src = JSON.parse(mailbox);
  await client.call("POST", "/mailbox", { mailbox });
  for (const tag of tags) {
    const message = { header: { src, dest: src, tag, label: null, kind: "request", protocol_version: "1" }, body: { kind: "ping-request" } };
    expect((await client.call("PUT", "/message", { message: JSON.stringify(message) })).status).toBe(200);
  }
}

async function forget(redisPrefix: string): Promise<void> {
  const redis = createClient({ url });
  await redis.connect();
  for await (const keys of redis.scanIterator({ MATCH: `${redisPrefix}*` })) for (const key of ([] as string[]).concat(keys)) await redis.del(key);
  await redis.quit();
}
