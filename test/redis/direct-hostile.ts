import { connect, type Socket } from "node:net";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { MessageValidationError, RedisSpace } from "../../src/index.js";
import { Keys } from "../../src/redis/index.js";
import { FrameReader, encodeFrame, type AckFrame, type Frame } from "../../src/redis/direct/frames.js";
import { Calculator } from "../fixtures/calculator.js";
import { Recorder } from "../helpers/recorder.js";
import { describeWithRedis, probeRedis, rawClient, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const directTimeoutMs = 1_000;

/** A raw connection to a direct port: what it sends, what frames it got back, and whether the process closed it. */
class RawPeer {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  #reader = new FrameReader();

  constructor(address: string) {
    const colon = address.lastIndexOf(":");
    this.socket = connect({ host: address.slice(0, colon), port: Number(address.slice(colon + 1)) });
    this.socket.on("data", (chunk: Buffer) => this.frames.push(...this.#reader.push(chunk)));
    this.socket.on("error", () => {});
    this.closed = new Promise((resolve) => this.socket.on("close", () => resolve()));
  }

  send(bytes: Buffer | string): this {
    this.socket.write(bytes);
    return this;
  }

  /** Every verdict the acks said so far, by sequence number. */
  verdicts(): Map<number, string> {
    const verdicts = new Map<number, string>();
    for (const frame of this.frames) {
      if (frame.t !== "ack") continue;
      for (const seq of (frame as AckFrame).done) verdicts.set(seq, "done");
      for (const [seq, why] of (frame as AckFrame).refused) verdicts.set(seq, why);
    }
    return verdicts;
  }
}

function frameOfLength(length: number, body = ""): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(length);
  return Buffer.concat([head, Buffer.from(body)]);
}

describeWithRedis("RedisSpace direct port against hostile peers", probe, () => {
  let namespace: string;
  let host: RedisSpace;
  let caller: RedisSpace;
  let endpoint: { address: string; secret: string };
  const errors: Error[] = [];

  beforeEach(async () => {
    namespace = uniqueNamespace("direct-hostile");
    host = new RedisSpace({ namespace, direct: true, tuning: { directTimeoutMs } });
    caller = new RedisSpace({ namespace, direct: true });
    errors.length = 0;
    host.on("error", (error) => errors.push(error));
    await host.add(Calculator, "calc");
    const keys = new Keys(namespace);
    const client = await rawClient();
    try {
      const token = String(await client.get(keys.lease("calc")));
      const found = await client.hGetAll(keys.endpoint(token));
      endpoint = { address: String(found.address), secret: String(found.secret) };
    } finally {
      client.destroy();
    }
  });
  afterEach(async () => {
    await Promise.all([host.destroy(), caller.destroy()]);
  });

  it("closes connections that send garbage, a huge length, no JSON, no hello, a wrong secret or nothing, and keeps serving", async () => {
    const hostile = [
      new RawPeer(endpoint.address).send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
      new RawPeer(endpoint.address).send(frameOfLength(0xffff_ffff)),
      new RawPeer(endpoint.address).send(frameOfLength(5, "hello")),
      new RawPeer(endpoint.address).send(encodeFrame({ t: "batch", first: 1, messages: [{}] })),
      new RawPeer(endpoint.address).send(encodeFrame({ t: "hello", token: "intruder", secret: "00".repeat(24) })),
      new RawPeer(endpoint.address), // says nothing: given up after the timeout
    ];
    await Promise.all(hostile.map((peer) => peer.closed));
    for (const peer of hostile) expect(peer.frames).toEqual([]);
    const me = await caller.addForeground(Recorder, "me");
    await expect(me.request({ to: "calc", action: { name: "add", args: { a: 2, b: 3 } } })).resolves.toBe(5);
  });

  it("refuses malformed messages and messages for agents it does not hold, one by one, from a peer that knows the secret", async () => {
    const valid = { meta: { id: "h1" }, from: "someone", to: "calc", action: { name: "accumulate", args: { n: 1 } } };
    const messages = [
      {},
      { ...valid, from: "*" },
      { ...valid, action: { name: "add", args: [1, 2] } },
      { ...valid, to: "nobody" },
      { ...valid, to: "*" },
      valid,
      "not even an object",
    ];
    const peer = new RawPeer(endpoint.address).send(encodeFrame({ t: "hello", token: "peer-token", secret: endpoint.secret }));
    peer.send(encodeFrame({ t: "batch", first: 1, messages }));
    await vi.waitFor(() => expect(peer.verdicts().size).toBe(messages.length), { timeout: 5_000, interval: 20 });
    expect([...peer.verdicts()].sort(([a], [b]) => a - b).map(([, verdict]) => verdict)).toEqual([
      "invalid",
      "invalid",
      "invalid",
      "absent",
      "invalid",
      "done",
      "invalid",
    ]);
    expect(errors.filter((error) => error instanceof MessageValidationError)).toHaveLength(5);
    // The one valid message was taken once; the same message again is recognised as handled, not run twice.
    peer.send(encodeFrame({ t: "batch", first: 8, messages: [valid] }));
    await vi.waitFor(() => expect(peer.verdicts().get(8)).toBe("done"), { timeout: 5_000, interval: 20 });
    // A batch out of sequence ends the connection.
    peer.send(encodeFrame({ t: "batch", first: 100, messages: [valid] }));
    await peer.closed;
    await expect(host.handle<Calculator>("calc").accumulate({ n: 0 })).resolves.toBe(1);
  });
});
