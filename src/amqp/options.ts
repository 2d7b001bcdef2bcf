/** A certificate or key: PEM text, or its bytes. */
export type Pem = string | Buffer;

/** Where and how to reach the AMQP broker (RabbitMQ) that carries an AMQPSpace. */
export interface AmqpOptions {
  hostname: string;
  port: number;
  username: string;
  password: string;
  virtualHost: string;
  /** Connect over TLS (amqps). The broker's certificate must be trusted and name `hostname` (or `servername`). */
  useSsl: boolean;
  /** With useSsl: the CA certificate(s) to trust for the broker's certificate, instead of Node's built-in list. */
  ca?: Pem | Pem[];
  /** With useSsl: a client certificate, for a broker that asks for one; goes with `key`. */
  cert?: Pem;
  /** With useSsl: the private key of `cert`. */
  key?: Pem;
  /** With useSsl: the name the broker's certificate must carry when it is not `hostname` (say, connecting by IP address); also sent as SNI. */
  servername?: string;
  /** Seconds between heartbeats; 0 turns them off. */
  heartbeat: number;
}

/** The options that only mean something over TLS. */
export type TlsOptions = Pick<AmqpOptions, "ca" | "cert" | "key" | "servername">;
const TLS_FIELDS = ["ca", "cert", "key", "servername"] as const satisfies readonly (keyof TlsOptions)[];

/** The exchange a space uses when none is named: the one Python Agency uses. */
export const DEFAULT_EXCHANGE = "agency";

const DEFAULT_HEARTBEAT_SECONDS = 60;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Fills in what `partial` leaves out: from `AMQP_HOST`, `AMQP_PORT`,
 * `AMQP_USERNAME`, `AMQP_PASSWORD`, `AMQP_VHOST`, else localhost:5672
 * guest/guest "/" (port 5671 when `useSsl` is set and no port is given).
 * The TLS settings are taken as given; without `useSsl` they are refused
 * rather than ignored, so that a forgotten flag never means plain text.
 */
export function resolveAmqpOptions(partial: Partial<AmqpOptions> = {}, env: Env = process.env): AmqpOptions {
  const useSsl = partial.useSsl ?? false;
  return {
    hostname: partial.hostname ?? fromEnv(env, "AMQP_HOST") ?? "localhost",
    port: checkPort(partial.port ?? portFromEnv(env) ?? (useSsl ? 5671 : 5672), "port"),
    username: partial.username ?? fromEnv(env, "AMQP_USERNAME") ?? "guest",
    password: partial.password ?? fromEnv(env, "AMQP_PASSWORD") ?? "guest",
    virtualHost: partial.virtualHost ?? fromEnv(env, "AMQP_VHOST") ?? "/",
    useSsl,
    ...checkTls(partial, useSsl),
    heartbeat: partial.heartbeat ?? DEFAULT_HEARTBEAT_SECONDS,
  };
}

/**
 * The TLS settings of `options` that are set, and only those: tls.connect
 * takes a field given as undefined as given.
 */
export function tlsSettings(options: Partial<AmqpOptions>): TlsOptions {
  const tls: TlsOptions = {};
  if (options.ca !== undefined) tls.ca = options.ca;
  if (options.cert !== undefined) tls.cert = options.cert;
  if (options.key !== undefined) tls.key = options.key;
  if (options.servername !== undefined) tls.servername = options.servername;
  return tls;
}

/** The TLS settings `partial` gives, once they make sense together. */
function checkTls(partial: Partial<AmqpOptions>, useSsl: boolean): TlsOptions {
  const given = TLS_FIELDS.filter((field) => partial[field] !== undefined);
  if (given.length > 0 && !useSsl) {
    throw new TypeError(`AMQP ${given.join(", ")} ${given.length > 1 ? "are TLS settings" : "is a TLS setting"}: set useSsl as well`);
  }
  if ((partial.cert === undefined) !== (partial.key === undefined)) {
    throw new TypeError("AMQP cert and key go together: a client certificate needs its private key");
  }
  return tlsSettings(partial);
}

/** `host:port (vhost "/")`, without credentials: for error messages and logs. */
export function describeBroker(options: AmqpOptions): string {
  const tls = options.useSsl ? ", TLS" : "";
  return `${options.hostname}:${options.port} (vhost "${options.virtualHost}"${tls})`;
}

// An empty variable (`AMQP_HOST= cmd`) means unset, as in a shell.
function fromEnv(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

function portFromEnv(env: Env): number | undefined {
  const text = fromEnv(env, "AMQP_PORT");
  return text === undefined ? undefined : checkPort(Number(text), `AMQP_PORT ("${text}")`);
}

function checkPort(port: number, what: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`AMQP ${what} must be a port number from 1 to 65535`);
  }
  return port;
}
