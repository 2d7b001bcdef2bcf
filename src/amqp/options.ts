/** Where and how to reach the AMQP broker (RabbitMQ) that carries an AMQPSpace. */
export interface AmqpOptions {
  hostname: string;
  port: number;
  username: string;
  password: string;
  virtualHost: string;
  useSsl: boolean;
  /** Seconds between heartbeats; 0 turns them off. */
  heartbeat: number;
}

/** The exchange a space uses when none is named: the one Python Agency uses. */
export const DEFAULT_EXCHANGE = "agency";

const DEFAULT_HEARTBEAT_SECONDS = 60;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Fills in what `partial` leaves out: from `AMQP_HOST`, `AMQP_PORT`,
 * `AMQP_USERNAME`, `AMQP_PASSWORD`, `AMQP_VHOST`, else localhost:5672
 * guest/guest "/" (port 5671 when `useSsl` is set and no port is given).
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
    heartbeat: partial.heartbeat ?? DEFAULT_HEARTBEAT_SECONDS,
  };
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
