import { createServer, type Server, type Socket } from "node:net";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { RedisSpace } from "../../src/index.js";
import { Keys } from "../../src/redis/index.js";
import { Calculator } from "../fixtures/calculator.js";
import { Recorder } from "../helpers/recorder.js";
import { describeWithRedis, probeRedis, rawClient, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const directTimeoutMs = 1_000;

type Client = Awaited<ReturnType<typeof rawClient>>;

/** Makes `id` look, in Redis, like an agent of a live process that takes direct connections at `address`. */
async function fakeHolder(client: Client, keys: Keys, id: string, address: string): Promise<string> {
  const token = `fake-${Math.random().toString(36).slice(2)}`;
  await client.sendCommand(["SET", keys.lease(id), token, "PX", "60000"]);
  await client.sendCommand(["XGROUP", "CREATE", keys.mailbox(id), Keys.GROUP, "0", "MKSTREAM"]);
  await client.sendCommand(["HSET", keys.registry, id, "10000"]);
  await client.sendCommand(["HSET", keys.endpoint(token), "address", address, "secret", "00".repeat(24)]);
  return token;
}

/** The `n` of every message waiting in `id`'s mailbox, in stream order. */
async function waiting(client: Client, keys: Keys, id: string): Promise<number[]> {
  const entries = (await client.sendCommand(["XRANGE", keys.mailbox(id), "-", "+"])) as Array<[string, string[]]>;
  return entries.map(([, fields]) => (JSON.parse(fields[1]!) as { action: { args: { n: number } } }).action.args.n);
}

function listening(onSocket: (socket: Socket) => void): Promise<{ server: Server; address: string }> {
  const server = createServer(onSocket);
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, address: `127.0.0.1:${(server.address() as { port: number }).port}` })));
}

describeWithRedis("RedisSpace direct path when the peer cannot take messages", probe, () => {
  let namespace: string;
  let keys: Keys;
  let space: RedisSpace;
  let client: Client;
  const servers: Server[] = [];

  beforeEach(async () => {
    namespace = uniqueNamespace("direct-fallback");
    keys = new Keys(namespace);
    space = new RedisSpace({ namespace, direct: true, tuning: { directTimeoutMs } });
    client = await rawClient();
  });
  afterEach(async () => {
    await space.destroy();
    client.destroy();
    for (const server of servers.splice(0)) server.close();
  });

  it("moves what a peer that accepts and never reads was sent into Redis within a bounded time, in order, and what follows after it", async () => {
    const sockets: Socket[] = [];
    const { server, address } = await listening((socket) => {
      socket.pause(); // takes the connection, reads nothing, answers nothing
      sockets.push(socket);
    });
    servers.push(server);
    await fakeHolder(client, keys, "stuck", address);
    const me = await space.addForeground(Recorder, "me");
    const startedAt = Date.now();
    for (let n = 0; n < 50; n++) me.send({ to: "stuck", action: { name: "take", args: { n } } });
    await vi.waitFor(async () => expect(await waiting(client, keys, "stuck")).toHaveLength(50), { timeout: directTimeoutMs + 4_000, interval: 50 });
    expect(Date.now() - startedAt).toBeLessThan(directTimeoutMs + 3_000);
    expect(sockets.length).toBeGreaterThan(0); // it did go to the peer first
    for (let n = 50; n < 100; n++) me.send({ to: "stuck", action: { name: "take", args: { n } } });
    await vi.waitFor(async () => expect(await waiting(client, keys, "stuck")).toHaveLength(100), { timeout: 5_000, interval: 50 });
    expect(await waiting(client, keys, "stuck")).toEqual(Array.from({ length: 100 }, (_, n) => n));
    expect(me.errors).toEqual([]);
    for (const socket of sockets) socket.destroy();
  });

  it("rejects add with a clear error when the direct port is taken, or not a port", async () => {
    const { server, address } = await listening(() => {});
    servers.push(server);
    const port = Number(address.split(":")[1]);
    const taken = new RedisSpace({ namespace, direct: { port } });
    await expect(taken.add(Calculator, "calc")).rejects.toThrow(`cannot listen for direct connections on 127.0.0.1:${port}`);
    await taken.destroy();
    const wrong = new RedisSpace({ namespace, direct: { port: 70_000 } });
    await expect(wrong.add(Calculator, "calc")).rejects.toThrow("direct.port must be a port number");
    await wrong.destroy();
  });

  it("sends to Redis at once when the recorded address is stale, and takes the address out of the directory", async () => {
    const { server, address } = await listening(() => {});
    await new Promise((resolve) => server.close(resolve)); // nobody listens there any more
    const token = await fakeHolder(client, keys, "gone", address);
    const me = await space.addForeground(Recorder, "me");
    for (let n = 0; n < 20; n++) me.send({ to: "gone", action: { name: "take", args: { n } } });
    await vi.waitFor(async () => expect(await waiting(client, keys, "gone")).toHaveLength(20), { timeout: 5_000, interval: 50 });
    expect(await waiting(client, keys, "gone")).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(await client.exists(keys.endpoint(token))).toBe(0);
    expect(me.errors).toEqual([]);
  });
});
