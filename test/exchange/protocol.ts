/**
 * The exchange speaks Academy's protocol: the captured traffic of an Academy
 * client and server replayed against it gets the statuses and body shapes
 * Academy's server gave; and where Academy's server fails, ours does not.
 */
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { Exchange, HttpSpace, PermissionDeniedError, Agent } from "../../src/index.js";
import { ExchangeClient } from "../../src/http/exchange-client.js";

interface Captured {
  seq: number;
  method?: "GET" | "POST" | "PUT" | "DELETE";
  path?: string;
  t_start: number;
  t_end?: number;
  status?: number;
  request_body_raw?: string;
  response_body_raw?: string;
  response_headers?: Record<string, string>;
}

const capture = JSON.parse(readFileSync(new URL("../../../shared/fixtures/academy-0.5-http-capture.json", import.meta.url), "utf8")) as Captured[];

/** The shape of a JSON value: its keys and the types of their values, recursively for objects. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [key, shape(inner)]));
}

/** A ping-request from `src` to `dest`, as Academy's wire has it. */
function pingRequest(src: unknown, dest: unknown, tag = randomUUID()) {
  return { header: { src, dest, tag, label: null, kind: "request", protocol_version: "1" }, body: { kind: "ping-request" } };
}

function user(name: string) {
  return JSON.stringify({ uid: randomUUID(), name, role: "user" });
}

const exchanges: Exchange[] = [];
const clients: ExchangeClient[] = [];
async function start(options: Parameters<typeof Exchange.start>[0] = {}): Promise<Exchange> {
  const exchange = await Exchange.start(options);
  exchanges.push(exchange);
  return exchange;
}
function clientOf(exchange: Exchange, token?: string): ExchangeClient {
  const client = new ExchangeClient(exchange.url, token);
  clients.push(client);
  return client;
}
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(exchanges.splice(0).map((exchange) => exchange.close()));
});

describe("the HTTP exchange, in Academy's protocol", () => {
  it("replays Academy's captured traffic with the statuses and body shapes Academy's server gave", async () => {
    const exchange = await start();
    const client = clientOf(exchange);
    // The first 6.4 s (everything but the idle part), concurrently where they overlapped in the
    // capture: each request starts once every request that had ended before it began has ended
    // here too. (By clock time alone, a PUT 5 ms before a DELETE can arrive after it on a busy machine.)
    const requests = capture.filter((entry) => entry.method !== undefined && entry.t_start < 6.36).sort((a, b) => a.t_start - b.t_start);
    const done = new Map<Captured, Promise<{ entry: Captured; status: number; text: string }>>();
    const replay = async (entry: Captured) => {
      await Promise.all(requests.filter((other) => (other.t_end ?? Infinity) < entry.t_start).map((other) => done.get(other)));
      const body = JSON.parse(entry.request_body_raw ?? "{}");
      if (entry.path === "/mailbox/listen" && entry.status === 200) {
        const stop = new AbortController();
        const events: string[] = [];
        setTimeout(() => stop.abort(), ((entry.t_end ?? entry.t_start) - entry.t_start) * 1000);
        const reply = await client.listen(body, undefined, stop.signal, (_id, data) => events.push(data));
        return { entry, status: reply.status, text: events[0] ?? "" };
      }
      const reply = await client.call(entry.method!, entry.path!, body);
      return { entry, status: reply.status, text: reply.text };
    };
    for (const entry of requests) done.set(entry, replay(entry));
    const results = await Promise.all(done.values());
    for (const { entry, status, text } of results) {
      const where = `#${entry.seq} ${entry.method} ${entry.path}`;
      expect(status, where).toBe(entry.status);
      const expected = entry.response_body_raw ?? "";
      if (entry.path === "/mailbox/listen") continue;
      if (expected.startsWith("{")) expect(shape(JSON.parse(text)), where).toEqual(shape(JSON.parse(expected)));
      else if (entry.status === 400) expect(text, where).toMatch(/^(Missing or invalid field: |Invalid timeout)/);
      else expect(text, where).toBe(expected);
    }
  }, 20_000);

  it("loses nothing when an SSE listen drops: the next receive gets the message (Academy's server loses it)", async () => {
    const exchange = await start();
    const client = clientOf(exchange);
    const mailbox = user("dropper");
    expect((await client.call("POST", "/mailbox", { mailbox })).status).toBe(200);
    const stop = new AbortController();
    const listening = client.listen({ mailbox, timeout: 20 }, undefined, stop.signal, () => {});
    // The listen is registered once the exchange counts it.
    while (JSON.parse((await client.call("GET", "/mailbox/listeners", { mailbox })).text).listeners === 0) await new Promise((r) => setImmediate(r));
    stop.abort();
    await listening;
    while (JSON.parse((await client.call("GET", "/mailbox/listeners", { mailbox })).text).listeners !== 0) await new Promise((r) => setImmediate(r));
    const src = JSON.parse(mailbox);
    const message = pingRequest(src, src);
    expect((await client.call("PUT", "/message", { message: JSON.stringify(message) })).status).toBe(200);
    const received = await client.call("GET", "/message", { mailbox, timeout: 3 });
    expect(received.status).toBe(200);
    expect(JSON.parse(JSON.parse(received.text).message).header.tag).toBe(message.header.tag);
  });

  it("gives a message a listen took and dropped before confirming to the next listen", async () => {
    const exchange = await start();
    const client = clientOf(exchange);
    const mailbox = user("taker");
    await client.call("POST", "/mailbox", { mailbox });
    const src = JSON.parse(mailbox);
    const message = pingRequest(src, src);
    await client.call("PUT", "/message", { message: JSON.stringify(message) });
    // Takes the event and drops the connection at once, before any later write could confirm it.
    const stop = new AbortController();
    const first: string[] = [];
    let eventId: string | undefined;
    await client.listen({ mailbox, timeout: 20 }, undefined, stop.signal, (id, data) => {
      first.push(data);
      eventId = id;
      stop.abort();
    });
    expect(first).toHaveLength(1);
    // Academy's client reads an event's id with int(): it must be a whole number.
    expect(eventId).toMatch(/^\d+$/);
    const again = await client.call("GET", "/message", { mailbox, timeout: 3 });
    expect(again.status).toBe(200);
    expect(JSON.parse(JSON.parse(again.text).message).header.tag).toBe(message.header.tag);
  });

  it("takes many messages in one PUT /messages, in order, each with the status PUT /message would give it", async () => {
    const exchange = await start({ limits: { maxMessageBytes: 4096 } });
    const client = clientOf(exchange);
    const mailbox = user("batched");
    await client.call("POST", "/mailbox", { mailbox });
    const me = JSON.parse(mailbox);
    const nowhere = { uid: randomUUID(), name: null, role: "user" };
    const stranger = { uid: randomUUID(), name: null, role: "user" };
    const first = pingRequest(me, me);
    const last = pingRequest(me, me);
    const big = pingRequest(me, me);
    (big.body as Record<string, unknown>).padding = "x".repeat(5000);
    const messages = [JSON.stringify(first), JSON.stringify(pingRequest(me, nowhere)), JSON.stringify(pingRequest(stranger, me)), "{not json", JSON.stringify(big), JSON.stringify(last)];
    const reply = await client.call("PUT", "/messages", { messages });
    expect(reply.status).toBe(200);
    const { results } = JSON.parse(reply.text) as { results: { status: number; text?: string }[] };
    expect(results.map((result) => result.status)).toEqual([200, 404, 403, 400, 413, 200]);
    expect(results[1]!.text).toBe("Unknown mailbox ID");
    expect(results[3]!.text).toMatch(/^Missing or invalid field: /);
    const tags: string[] = [];
    for (let i = 0; i < 2; i++) {
      const received = await client.call("GET", "/message", { mailbox, timeout: 3 });
      expect(received.status).toBe(200);
      tags.push(JSON.parse(JSON.parse(received.text).message).header.tag);
    }
    expect(tags).toEqual([first.header.tag, last.header.tag]);
    expect((await client.call("PUT", "/messages", { messages: "not a list" })).status).toBe(400);
    expect((await client.call("PUT", "/messages", { messages: Array.from({ length: 5000 }, () => "x") })).status).toBe(400);
  });

  it("refuses a message past the size limit with 413 and goes on serving", async () => {
    const exchange = await start();
    const client = clientOf(exchange);
    const mailbox = user("big");
    await client.call("POST", "/mailbox", { mailbox });
    const src = JSON.parse(mailbox);
    const header = { src, dest: src, tag: randomUUID(), label: null, kind: "request", protocol_version: "1" };
    const big = { header, body: { kind: "action-request", action: "x", serialization: "json", pargs: "[]", kargs: JSON.stringify({ blob: "x".repeat(10 * 1024 * 1024) }) } };
    const refused = await client.call("PUT", "/message", { message: JSON.stringify(big) });
    expect(refused.status).toBe(413);
    expect(refused.text).toMatch(/^Message of size \d+ larger than limit 1048576\.$/);
    const small = pingRequest(src, src);
    expect((await clientOf(exchange).call("PUT", "/message", { message: JSON.stringify(small) })).status).toBe(200);
    expect(JSON.parse((await clientOf(exchange).call("GET", "/mailbox/stats", { mailbox })).text).queued).toBe(1);
  });
});

describe("the HTTP exchange with --auth", () => {
  const tokens = {
    "alice-token-0123456789": { client: "alice", groups: ["lab"] },
    "bob-token-0123456789ab": { client: "bob", groups: [] },
  };

  it("keeps one client's mailboxes from another: no reading, no writing, no sending as one of its agents", async () => {
    const exchange = await start({ auth: tokens });
    const alice = clientOf(exchange, "alice-token-0123456789");
    const bob = clientOf(exchange, "bob-token-0123456789ab");
    const aliceBox = user("alice-agent");
    const bobBox = user("bob-user");
    expect((await alice.call("POST", "/mailbox", { mailbox: aliceBox })).status).toBe(200);
    expect((await bob.call("POST", "/mailbox", { mailbox: bobBox })).status).toBe(200);
    expect((await bob.call("GET", "/message", { mailbox: aliceBox, timeout: 1 })).status).toBe(403);
    expect((await bob.call("GET", "/mailbox/listen", { mailbox: aliceBox, timeout: 1 })).status).toBe(403);
    expect((await bob.call("DELETE", "/mailbox", { mailbox: aliceBox })).status).toBe(403);
    const a = JSON.parse(aliceBox);
    const b = JSON.parse(bobBox);
    const as = (src: unknown, dest: unknown) => JSON.stringify(pingRequest(src, dest));
    // Claiming to be alice's agent: refused, wherever it goes.
    expect((await bob.call("PUT", "/message", { message: as(a, b) })).status).toBe(403);
    // Writing into alice's mailbox, which is not shared with bob.
    expect((await bob.call("PUT", "/message", { message: as(b, a) })).status).toBe(403);
    expect((await clientOf(exchange).call("GET", "/mailbox", { mailbox: aliceBox })).status).toBe(401);
    expect(JSON.parse((await alice.call("GET", "/mailbox/stats", { mailbox: aliceBox })).text).queued).toBe(0);
  });

  it("lets the owner share a mailbox with a group, and take the share back", async () => {
    const exchange = await start({ auth: { ...tokens, "carol-token-0123456789": { client: "carol", groups: ["lab"] } } });
    const alice = clientOf(exchange, "alice-token-0123456789");
    const bob = clientOf(exchange, "bob-token-0123456789ab");
    const carol = clientOf(exchange, "carol-token-0123456789");
    const aliceBox = user("alice-agent");
    const carolBox = user("carol-user");
    expect((await alice.call("POST", "/mailbox", { mailbox: aliceBox })).status).toBe(200);
    expect((await carol.call("POST", "/mailbox", { mailbox: carolBox })).status).toBe(200);
    const fromCarol = () => JSON.stringify(pingRequest(JSON.parse(carolBox), JSON.parse(aliceBox)));
    expect((await carol.call("PUT", "/message", { message: fromCarol() })).status).toBe(403);
    // Only the owner shares.
    expect((await bob.call("POST", "/mailbox/share", { mailbox: aliceBox, group_id: "lab" })).status).toBe(403);
    expect((await alice.call("POST", "/mailbox/share", { mailbox: aliceBox, group_id: "lab" })).status).toBe(200);
    expect(JSON.parse((await carol.call("GET", "/mailbox/share", { mailbox: aliceBox })).text)).toEqual({ group_ids: ["lab"] });
    expect((await carol.call("PUT", "/message", { message: fromCarol() })).status).toBe(200);
    expect(JSON.parse((await carol.call("GET", "/mailbox/stats", { mailbox: aliceBox })).text).queued).toBe(1);
    // bob is not in the group.
    expect((await bob.call("GET", "/mailbox/stats", { mailbox: aliceBox })).status).toBe(403);
    expect((await alice.call("DELETE", "/mailbox/share", { mailbox: aliceBox, group_id: "lab" })).status).toBe(200);
    expect((await carol.call("PUT", "/message", { message: fromCarol() })).status).toBe(403);
    expect(JSON.parse((await alice.call("GET", "/mailbox/stats", { mailbox: aliceBox })).text).queued).toBe(1);
  });

  it("gives an HttpSpace without a token a typed error at add that names the fix", async () => {
    const exchange = await start({ auth: tokens });
    const space = new HttpSpace({ url: exchange.url });
    const added = space.addForeground(Agent, "me");
    await expect(added).rejects.toThrow(PermissionDeniedError);
    await expect(added).rejects.toThrow(/token/);
    await space.destroy();
  });
});
