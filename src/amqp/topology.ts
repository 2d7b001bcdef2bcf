import type { Channel } from "amqplib";
import { DuplicateAgentError } from "../errors.js";
import { AmqpConnectionError } from "./errors.js";
import type { AmqpConnection } from "./connection.js";
import { BROADCAST_ROUTING_KEY, queuesOf } from "./wire.js";

// AMQP reply codes the broker closes a channel with.
const RESOURCE_LOCKED = 405;
const PRECONDITION_FAILED = 406;

/** The space's exchange: topic, durable, not auto-delete, no arguments (Agency's layout). */
export async function declareExchange(connection: AmqpConnection, exchange: string): Promise<void> {
  try {
    await withChannel(connection, (channel) =>
      channel.assertExchange(exchange, "topic", { durable: true, autoDelete: false, internal: false }),
    );
  } catch (error) {
    if (codeOf(error) !== PRECONDITION_FAILED) throw error;
    throw new AmqpConnectionError(
      `exchange "${exchange}" already exists on the broker with other settings (it must be topic, durable, not auto-delete, without arguments)`,
      { cause: error },
    );
  }
}

/**
 * Declares and binds agent `id`'s two exclusive queues. Another connection
 * holding them makes this reject with DuplicateAgentError.
 */
export async function declareAgentQueues(connection: AmqpConnection, exchange: string, id: string): Promise<void> {
  const [direct, broadcast] = queuesOf(id);
  const declared: string[] = [];
  try {
    await withChannel(connection, async (channel) => {
      for (const queue of [direct, broadcast]) {
        await channel.assertQueue(queue, { durable: false, exclusive: true, autoDelete: true });
        declared.push(queue);
      }
      await channel.bindQueue(direct, exchange, id);
      await channel.bindQueue(broadcast, exchange, BROADCAST_ROUTING_KEY);
    });
  } catch (error) {
    // Leave nothing half-made behind: a queue without its twin would swallow messages.
    await deleteQueues(connection, declared).catch(() => {});
    if (codeOf(error) !== RESOURCE_LOCKED) throw error;
    throw new DuplicateAgentError(
      `agent id "${id}" is held elsewhere on the broker: another connection has its exclusive queues`,
      { cause: error },
    );
  }
}

export function deleteAgentQueues(connection: AmqpConnection, id: string): Promise<void> {
  return deleteQueues(connection, queuesOf(id));
}

async function deleteQueues(connection: AmqpConnection, queues: readonly string[]): Promise<void> {
  if (queues.length === 0) return;
  await withChannel(connection, async (channel) => {
    for (const queue of queues) await channel.deleteQueue(queue);
  });
}

// A refused declare makes the broker close the channel it came on: do each
// such step on a channel of its own, so the shared ones survive it.
async function withChannel<T>(connection: AmqpConnection, work: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await connection.openChannel();
  try {
    return await work(channel);
  } finally {
    await channel.close().catch(() => {});
  }
}

function codeOf(error: unknown): unknown {
  return typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
}
