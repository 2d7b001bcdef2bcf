import type { Options } from "amqplib";
import { BROADCAST, validateIncoming, type Message } from "../message.js";

/** The routing key every agent's broadcast queue is bound with (Python Agency's). */
export const BROADCAST_ROUTING_KEY = "__broadcast__";

/**
 * Publish properties, as Python Agency sends them. `text/plain`, never
 * `application/json`: Agency's consumer breaks on it. Persistent, and
 * mandatory so that a message no queue takes comes back instead of vanishing.
 */
export const PUBLISH_OPTIONS: Readonly<Options.Publish> = Object.freeze({
  contentType: "text/plain",
  contentEncoding: "utf-8",
  deliveryMode: 2,
  priority: 0,
  mandatory: true,
});

export function routingKeyFor(to: string): string {
  return to === BROADCAST ? BROADCAST_ROUTING_KEY : to;
}

/** The two queues of agent `id`: direct messages, then broadcasts. */
export function queuesOf(id: string): readonly [direct: string, broadcast: string] {
  return [id, `${id}-broadcast`];
}

/** RabbitMQ's default max_message_size (128 MiB): a larger body makes it close the publishing channel. */
export const RABBITMQ_MAX_MESSAGE_SIZE = 134_217_728;

// How RabbitMQ (3.10 here) words closing a channel over a body larger than
// max_message_size: "message size N is larger than [configured ]max size M".
const TOO_LARGE = /\bmessage size \d+ is larger than (?:configured )?max size (\d+)/;
const PRECONDITION_FAILED = 406;

/** The broker's max_message_size, when `error` is its closing a channel over a message larger than that; else undefined. */
export function brokerSizeLimit(error: Error): number | undefined {
  if ((error as Error & { code?: unknown }).code !== PRECONDITION_FAILED) return undefined;
  const match = TOO_LARGE.exec(error.message);
  return match ? Number(match[1]) : undefined;
}

// JSON leaves out undefined fields, so optional ones are omitted, never null.
export function encodeMessage(message: Message): Buffer {
  return Buffer.from(JSON.stringify(message), "utf8");
}

/** Parses and validates a body from the broker; throws on anything that is not a valid message. */
export function decodeMessage(body: Buffer): Message {
  const value: unknown = JSON.parse(body.toString("utf8"));
  validateIncoming(value);
  return value;
}
