/** Reaching the local RabbitMQ the way AMQPSpace will: the same environment variables and defaults (DESIGN.md). */
import amqp, { type ChannelModel, type Options } from "amqplib";
import { withDeadline } from "./deadline.js";

export function brokerSettings(env: NodeJS.ProcessEnv = process.env): Options.Connect {
  return {
    protocol: "amqp",
    hostname: env.AMQP_HOST ?? "localhost",
    port: Number(env.AMQP_PORT ?? 5672),
    username: env.AMQP_USERNAME ?? "guest",
    password: env.AMQP_PASSWORD ?? "guest",
    vhost: env.AMQP_VHOST ?? "/",
  };
}

/** A broker that has not answered in this long is taken as absent, and its scenario skipped. */
export const CONNECT_DEADLINE_MS = 3_000;

/**
 * Connects with TCP no-delay on or off. Off, Nagle's algorithm and the peer's
 * delayed ACK hold each small frame for ~40 ms (BASELINES.md): the figure
 * that shows it is measured with `noDelay: false` on purpose.
 */
export async function connectBroker(noDelay: boolean, settings = brokerSettings()): Promise<ChannelModel> {
  const connection = await withDeadline(
    amqp.connect(settings, { noDelay, timeout: CONNECT_DEADLINE_MS }),
    CONNECT_DEADLINE_MS,
    `connecting to ${settings.hostname}:${settings.port}`,
  );
  // Without a listener an 'error' event would end the process; closing reports it anyway.
  connection.on("error", () => {});
  return connection;
}
