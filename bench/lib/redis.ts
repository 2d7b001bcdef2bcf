/**
 * Raw node-redis on the local Redis, used as RedisSpace uses it: streams
 * read through a consumer group, acked after each batch. The floor under
 * every RedisSpace figure, measured with no agentspace code at all.
 */
import { nanoid } from "nanoid";
import { createClient } from "redis";
import { now, nsSince } from "./clock.js";
import { withDeadline } from "./deadline.js";
import type { Rig } from "./rig.js";
import type { Count } from "./scenario.js";
import { makeMessage } from "../workers/message.mjs";

type Client = ReturnType<typeof createClient>;
type Entries = Array<[string, Array<[string, string[]]>]> | null;

/** XADDs per MULTI in the one-way pipeline (BASELINES.md: 500). */
const PIPELINE = 500;
/** Entries per XREADGROUP. */
const READ_COUNT = 512;
const GROUP = "g";
const DEADLINE_MS = 60_000;

export function redisUrl(): string {
  return process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
}

async function connect(): Promise<Client> {
  const client = createClient({ url: redisUrl(), RESP: 2, socket: { reconnectStrategy: false, connectTimeout: 3_000 } });
  client.on("error", () => {});
  await client.connect();
  return client as unknown as Client;
}

/** Why Redis cannot be measured now, or undefined when it can. */
export async function redisProblem(): Promise<string | undefined> {
  try {
    const client = await connect();
    client.destroy();
    return undefined;
  } catch (error) {
    return `no Redis answered at ${redisUrl()} (${error instanceof Error ? error.message : String(error)})`;
  }
}

async function stream(client: Client): Promise<string> {
  const key = `agentspace-bench:{${nanoid(8)}}:s`;
  await client.sendCommand(["XGROUP", "CREATE", key, GROUP, "0", "MKSTREAM"]);
  return key;
}

/** Takes what a consumer was handed, acks (and deletes) it, and returns the bodies. */
async function take(client: Client, key: string, block: number): Promise<string[]> {
  const reply = (await client.sendCommand(["XREADGROUP", "GROUP", GROUP, "c", "COUNT", String(READ_COUNT), "BLOCK", String(block), "STREAMS", key, ">"])) as Entries;
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) return [];
  const ids = entries.map(([id]) => id);
  client.sendCommand(["XACK", key, GROUP, ...ids]).catch(() => {});
  client.sendCommand(["XDEL", key, ...ids]).catch(() => {});
  return entries.map(([, fields]) => fields[1]!);
}

/**
 * One way: a producer pipelines XADDs (500 per MULTI), a consumer on its own
 * connection reads with XREADGROUP COUNT 512 and acks each batch (msg/s).
 */
export async function rawStreamOneWay(n: number): Promise<Rig<Count>> {
  const [producer, consumer] = await Promise.all([connect(), connect()]);
  const key = await stream(producer);
  return {
    async once() {
      const start = now();
      const consumed = (async () => {
        let received = 0;
        while (received < n) {
          for (const body of await take(consumer, key, 1_000)) {
            JSON.parse(body);
            received++;
          }
        }
      })();
      for (let i = 0; i < n; i += PIPELINE) {
        const multi = producer.multi();
        for (let j = i; j < Math.min(n, i + PIPELINE); j++) multi.addCommand(["XADD", key, "*", "m", JSON.stringify(makeMessage(j, "a", "b"))]);
        await multi.exec();
      }
      await withDeadline(consumed, DEADLINE_MS, "raw one-way run");
      return { count: n, ns: nsSince(start) };
    },
    async close() {
      await producer.sendCommand(["DEL", key]);
      producer.destroy();
      consumer.destroy();
    },
  };
}

/**
 * Request and answer over two streams: a XADDs to b's stream and blocks on its
 * own; b, blocked on its stream, XADDs each message back; both ack (µs).
 */
export async function rawStreamRoundTrip(k: number): Promise<Rig<number[]>> {
  const [aCommands, aReader, bCommands, bReader] = await Promise.all([connect(), connect(), connect(), connect()]);
  const [aKey, bKey] = await Promise.all([stream(aCommands), stream(aCommands)]);
  let running = true;
  const echo = (async () => {
    while (running) {
      for (const body of await take(bReader, bKey, 100).catch(() => [])) {
        const message = JSON.parse(body) as ReturnType<typeof makeMessage>;
        bCommands.sendCommand(["XADD", aKey, "*", "m", JSON.stringify({ ...message, from: "b", to: "a" })]).catch(() => {});
      }
    }
  })();
  return {
    async once() {
      const samples: number[] = [];
      for (let i = 0; i < k; i++) {
        const start = now();
        aCommands.sendCommand(["XADD", bKey, "*", "m", JSON.stringify(makeMessage(i, "a", "b"))]).catch(() => {});
        let answered = 0;
        while (answered === 0) answered = (await withDeadline(take(aReader, aKey, 1_000), DEADLINE_MS, "raw round trip")).length;
        samples.push(nsSince(start));
      }
      return samples;
    },
    async close() {
      running = false;
      await echo;
      await aCommands.sendCommand(["DEL", aKey, bKey]);
      for (const client of [aCommands, aReader, bCommands, bReader]) client.destroy();
    },
  };
}
