import { createServer, connect, type Server, type Socket } from "node:net";

// AMQP 0-9-1 framing: type (1 byte), channel (2), payload size (4), payload, 0xCE.
const FRAME_HEADER = 7;
const FRAME_END = 0xce;
const METHOD = 1;
const CONTENT_HEADER = 2;
const PROTOCOL_HEADER = 8; // "AMQP" 0 0 9 1, sent by the client before any frame
const BASIC = 60;
const PUBLISH = 40;
const CHANNEL = 20;
const CLOSE = 40;
const PRECONDITION_FAILED = 406;

/**
 * A TCP proxy in front of a RabbitMQ that plays the broker's
 * max_message_size at `maxBytes`, as RabbitMQ does it: a publish whose body
 * is larger is not passed on, and its channel is closed with 406 and
 * RabbitMQ's own words. After that, nothing more passes on that channel,
 * either way: the broker would ignore the rest until the channel is gone.
 *
 * So the refusal can be tested without lowering the limit of a broker that
 * other test runs share.
 */
export class SizeLimitingProxy {
  /** Publishes refused so far. */
  refusals = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(
    server: Server,
    readonly port: number,
  ) {
    this.#server = server;
  }

  static async start(upstream: { host: string; port: number }, maxBytes: number): Promise<SizeLimitingProxy> {
    let proxy: SizeLimitingProxy | undefined;
    const server = createServer((client) => {
      if (proxy) proxy.#relay(client, upstream, maxBytes);
      else client.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the proxy has no TCP port");
    proxy = new SizeLimitingProxy(server, address.port);
    return proxy;
  }

  /** Stops listening and cuts every connection. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #relay(client: Socket, upstream: { host: string; port: number }, maxBytes: number): void {
    const broker = connect(upstream.port, upstream.host);
    for (const socket of [client, broker]) {
      this.#sockets.add(socket);
      socket.on("close", () => {
        this.#sockets.delete(socket);
        client.destroy();
        broker.destroy();
      });
      socket.on("error", () => {}); // "close" follows
    }
    const closed = new Set<number>(); // channels this proxy closed
    let held: Buffer | undefined; // a publish, until its content header tells the body's size

    const fromClient = (frame: Buffer) => {
      const channel = frame.readUInt16BE(1);
      if (closed.has(channel)) return;
      if (held && frame[0] === CONTENT_HEADER && held.readUInt16BE(1) === channel) {
        const publish = held;
        held = undefined;
        const size = Number(frame.readBigUInt64BE(FRAME_HEADER + 4));
        if (size <= maxBytes) return void broker.write(Buffer.concat([publish, frame]));
        this.refusals++;
        closed.add(channel);
        client.write(channelClose(channel, `PRECONDITION_FAILED - message size ${size} is larger than configured max size ${maxBytes}`));
        return;
      }
      if (isMethod(frame, BASIC, PUBLISH)) held = frame;
      else broker.write(frame);
    };
    const fromBroker = (frame: Buffer) => {
      if (!closed.has(frame.readUInt16BE(1))) client.write(frame);
    };
    const cut = () => client.destroy();
    client.on("data", frameReader(fromClient, cut, { bytes: PROTOCOL_HEADER, then: (header) => broker.write(header) }));
    broker.on("data", frameReader(fromBroker, cut));
  }
}

function isMethod(frame: Buffer, classId: number, methodId: number): boolean {
  return frame[0] === METHOD && frame.readUInt16BE(FRAME_HEADER) === classId && frame.readUInt16BE(FRAME_HEADER + 2) === methodId;
}

/** Cuts a byte stream into whole frames, after a `prefix` of so many bytes (the protocol header); `malformed` on garbage. */
function frameReader(
  onFrame: (frame: Buffer) => void,
  malformed: () => void,
  prefix?: { bytes: number; then: (prefix: Buffer) => void },
): (chunk: Buffer) => void {
  let buffered = Buffer.alloc(0);
  let before = prefix;
  return (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    if (before) {
      if (buffered.length < before.bytes) return;
      before.then(buffered.subarray(0, before.bytes));
      buffered = buffered.subarray(before.bytes);
      before = undefined;
    }
    while (buffered.length >= FRAME_HEADER) {
      const end = FRAME_HEADER + buffered.readUInt32BE(3) + 1;
      if (buffered.length < end) return;
      if (buffered[end - 1] !== FRAME_END) return malformed();
      onFrame(buffered.subarray(0, end));
      buffered = buffered.subarray(end);
    }
  };
}

/** channel.close as RabbitMQ sends it when a basic.publish breaks a precondition. */
function channelClose(channel: number, text: string): Buffer {
  const reply = Buffer.from(text, "utf8");
  const payload = Buffer.alloc(4 + 2 + 1 + reply.length + 4);
  let at = payload.writeUInt16BE(CHANNEL, 0);
  at = payload.writeUInt16BE(CLOSE, at);
  at = payload.writeUInt16BE(PRECONDITION_FAILED, at);
  at = payload.writeUInt8(reply.length, at);
  at += reply.copy(payload, at);
  at = payload.writeUInt16BE(BASIC, at);
  payload.writeUInt16BE(PUBLISH, at);
  const frame = Buffer.alloc(FRAME_HEADER + payload.length + 1);
  frame.writeUInt8(METHOD, 0);
  frame.writeUInt16BE(channel, 1);
  frame.writeUInt32BE(payload.length, 3);
  payload.copy(frame, FRAME_HEADER);
  frame.writeUInt8(FRAME_END, FRAME_HEADER + payload.length);
  return frame;
}
