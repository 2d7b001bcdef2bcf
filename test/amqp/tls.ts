import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect as connectTcp, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type TlsOptions } from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmqpConnectionError, AmqpTransport, resolveAmqpOptions, type AmqpOptions } from "../../src/amqp/index.js";
import type { Message } from "../../src/message.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";

const run = promisify(execFile);
const WAIT_MS = 10_000;
const probe = await probeBroker();
const openssl = await run("openssl", ["version"]).then(
  () => true,
  () => false,
);

describe("AMQP TLS options", () => {
  it("are kept as given with useSsl, and refused without it: a forgotten flag must not mean plain text", () => {
    const tls = { ca: "CA PEM", cert: Buffer.from("CERT PEM"), key: "KEY PEM", servername: "rabbit.example" };
    expect(resolveAmqpOptions({ useSsl: true, ...tls }, {})).toMatchObject({ useSsl: true, port: 5671, ...tls });
    expect(() => resolveAmqpOptions({ ca: "CA PEM" }, {})).toThrow("AMQP ca is a TLS setting: set useSsl as well");
    expect(() => resolveAmqpOptions({ ...tls }, {})).toThrow("AMQP ca, cert, key, servername are TLS settings: set useSsl as well");
    expect(() => resolveAmqpOptions({ useSsl: true, cert: "CERT PEM" }, {})).toThrow(/cert and key go together/);
    expect(Object.keys(resolveAmqpOptions({}, {}))).not.toContain("ca");
  });
});

/** PEM files made with openssl for one run: two CAs, and certificates one of them signed. */
interface Pki {
  ca: string;
  otherCa: string;
  /** For localhost and 127.0.0.1. */
  server: { cert: string; key: string };
  /** For example.test only. */
  elsewhere: { cert: string; key: string };
  client: { cert: string; key: string };
}

async function makePki(dir: string): Promise<Pki> {
  const file = (name: string) => join(dir, name);
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const makeCa = (name: string) =>
    run("openssl", ["req", "-x509", ...ec, "-keyout", file(`${name}.key`), "-out", file(`${name}.pem`), "-days", "2", "-subj", `/CN=agentspace test ${name}`]);
  await makeCa("ca");
  await makeCa("other-ca");
  const issue = async (name: string, subject: string, extensions: string) => {
    await writeFile(file(`${name}.ext`), `${extensions}\n`);
    await run("openssl", ["req", ...ec, "-keyout", file(`${name}.key`), "-out", file(`${name}.csr`), "-subj", subject]);
    await run("openssl", [
      "x509", "-req", "-in", file(`${name}.csr`), "-CA", file("ca.pem"), "-CAkey", file("ca.key"), "-CAcreateserial",
      "-out", file(`${name}.pem`), "-days", "2", "-extfile", file(`${name}.ext`),
    ]); // prettier-ignore
    return { cert: await readFile(file(`${name}.pem`), "utf8"), key: await readFile(file(`${name}.key`), "utf8") };
  };
  return {
    ca: await readFile(file("ca.pem"), "utf8"),
    otherCa: await readFile(file("other-ca.pem"), "utf8"),
    server: await issue("server", "/CN=localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
    elsewhere: await issue("elsewhere", "/CN=example.test", "subjectAltName=DNS:example.test"),
    client: await issue("client", "/CN=agentspace test client", "extendedKeyUsage=clientAuth"),
  };
}

/** A TLS endpoint on 127.0.0.1 that passes each connection on to the plain broker: RabbitMQ behind TLS. */
class TlsFront {
  /** TLS connections that got through the handshake. */
  accepted = 0;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  async start(options: TlsOptions): Promise<this> {
    const server = createServer(options, (secure) => {
      this.accepted++;
      const plain = connectTcp(probe.options.port, probe.options.hostname);
      for (const socket of [secure, plain]) {
        this.#sockets.add(socket);
        socket.on("error", () => {}); // "close" follows
        socket.on("close", () => {
          this.#sockets.delete(socket);
          secure.destroy();
          plain.destroy();
        });
      }
      secure.pipe(plain).pipe(secure);
    });
    // Refused handshakes are what some tests are about; the client reports them.
    server.on("tlsClientError", () => {});
    server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    this.#server = server;
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("the TLS endpoint has no TCP port");
    this.port = address.port;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Attaches an id, publishes to it, and resolves with what arrived: one round trip through the broker. */
async function roundTrip(transport: AmqpTransport, id: string): Promise<Message> {
  const sent: Message = { meta: { id: `tls-${Math.random().toString(36).slice(2)}` }, from: "tester", to: id, action: { name: "ping", args: { over: "tls" } } };
  let arrived: (message: Message) => void = () => {};
  const arrival = new Promise<Message>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing arrived for "${id}" within ${WAIT_MS} ms`)), WAIT_MS);
    arrived = (message) => (clearTimeout(timer), resolve(message));
  });
  await transport.attach(id, (message, done) => (done(), arrived(message)));
  transport.publish(sent);
  const received = await arrival;
  expect(received).toEqual(sent);
  return received;
}

describeWithBroker("AMQP over TLS (RabbitMQ behind a TLS endpoint)", probe, () => {
  let dir: string | undefined;
  let pki: Pki;
  const fronts: TlsFront[] = [];
  const transports: AmqpTransport[] = [];
  const exchange = uniqueExchange("agentspace-tls");
  const suffix = exchange.slice(exchange.lastIndexOf("-"));

  async function front(options: TlsOptions): Promise<TlsFront> {
    const started = await new TlsFront().start(options);
    fronts.push(started);
    return started;
  }

  async function open(options: Partial<AmqpOptions>): Promise<AmqpTransport> {
    const opened = await AmqpTransport.open({ ...probe.options, hostname: "127.0.0.1", useSsl: true, ...options }, exchange);
    opened.on("error", () => {});
    transports.push(opened);
    return opened;
  }

  beforeAll(async () => {
    if (!openssl) return;
    dir = await mkdtemp(join(tmpdir(), "agentspace-tls-"));
    pki = await makePki(dir);
  });

  afterAll(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close()));
    await Promise.all(fronts.splice(0).map((f) => f.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.skipIf(!openssl)("connects with useSsl and the CA that signed the broker's certificate: a message goes through", async () => {
    const endpoint = await front(pki.server);
    const t = await open({ port: endpoint.port, ca: pki.ca });
    await roundTrip(t, `tls-ok${suffix}`);
    expect(endpoint.accepted).toBe(1);
  });

  it.skipIf(!openssl)("refuses a certificate no trusted CA signed, saying it was not trusted, with the TLS code", async () => {
    const endpoint = await front(pki.server);
    const withOtherCa = open({ port: endpoint.port, ca: pki.otherCa });
    await expect(withOtherCa).rejects.toThrow(AmqpConnectionError);
    await expect(withOtherCa).rejects.toThrow(
      `cannot connect to the AMQP broker at 127.0.0.1:${endpoint.port} (vhost "${probe.options.virtualHost}", TLS): the broker's TLS certificate was not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate); the CA that signed it is not among \`ca\``,
    );
    // Without `ca`, Node's built-in CAs are the ones trusted: none signed it either.
    const withoutCa = open({ port: endpoint.port });
    await expect(withoutCa).rejects.toThrow(/TLS certificate was not trusted \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\b.*give the CA that signed it as `ca`$/);
    expect(endpoint.accepted).toBe(0);
  });

  it.skipIf(!openssl)("refuses a certificate for another host name, saying the name did not match; servername names the one it carries", async () => {
    const endpoint = await front(pki.elsewhere);
    const byAddress = open({ port: endpoint.port, ca: pki.ca });
    await expect(byAddress).rejects.toThrow(AmqpConnectionError);
    await expect(byAddress).rejects.toThrow(
      /: the broker's TLS certificate did not match the host name "127\.0\.0\.1" \(ERR_TLS_CERT_ALTNAME_INVALID: .*127\.0\.0\.1.*\); connect by a name it carries/,
    );
    const byName = open({ hostname: "localhost", port: endpoint.port, ca: pki.ca });
    await expect(byName).rejects.toThrow(/did not match the host name "localhost" \(ERR_TLS_CERT_ALTNAME_INVALID\b/);
    expect(endpoint.accepted).toBe(0);

    const t = await open({ port: endpoint.port, ca: pki.ca, servername: "example.test" });
    await roundTrip(t, `tls-named${suffix}`);
    expect(endpoint.accepted).toBe(1);
  });

  it.skipIf(!openssl)("presents cert and key as a client certificate to an endpoint that demands one", async () => {
    const endpoint = await front({ ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true });
    const t = await open({ port: endpoint.port, ca: pki.ca, cert: pki.client.cert, key: pki.client.key });
    await roundTrip(t, `tls-mutual${suffix}`);
    expect(endpoint.accepted).toBe(1);
    const anonymous = open({ port: endpoint.port, ca: pki.ca });
    await expect(anonymous).rejects.toThrow(AmqpConnectionError);
    await expect(anonymous).rejects.toThrow(/: the broker asked for a client certificate \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\b.*give one as `cert` and `key`$/);
    expect(endpoint.accepted).toBe(1);
  });
});
