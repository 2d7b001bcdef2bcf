import type { AmqpTransport } from "../amqp/index.js";
import { AmqpConnectionError } from "../amqp/index.js";
import { answerTo } from "../answer.js";
import { AgentNotFoundError } from "../errors.js";
import { BROADCAST, isAnswer, type Message } from "../message.js";
import { open, type Envelope } from "../protocol.js";
import { Router, type MessageRouter, type Route } from "../router.js";

/**
 * The router of a space on a broker: every message is published to the
 * exchange (so agents in other processes, and Python Agency's, see the same
 * traffic), and what the broker delivers to this process's queues goes to
 * its agents.
 *
 * Delivery is acknowledged late: a direct message is acked once its agent
 * has answered it (every action answers), so the prefetch bound is real
 * backpressure on a busy agent. Answers and broadcasts are acked on arrival.
 */
export class BrokerRouter implements MessageRouter {
  /** This process's agents: who is here, and who to tell when one leaves. */
  #local = new Router();
  #transport: AmqpTransport | undefined;
  #connecting: Promise<AmqpTransport>;
  #unacked = new Map<string, () => void>();
  /** Ids whose queues are being deleted: a message to one would die in its queue. */
  #leaving = new Set<string>();
  #observe: (message: Message) => void;
  #report: (error: Error) => void;

  constructor(connecting: Promise<AmqpTransport>, observe: (message: Message) => void, report: (error: Error) => void) {
    this.#connecting = connecting;
    this.#observe = observe;
    this.#report = report;
    connecting.then(
      (transport) => this.#listen(transport),
      () => {}, // reported by the first add, which awaits the same promise
    );
  }

  has(id: string): boolean {
    return this.#local.has(id);
  }

  /** Declares and consumes `id`'s queues; rejects with DuplicateAgentError if anyone on the broker holds it. */
  async add(id: string, route: Route): Promise<void> {
    const transport = await this.#connecting;
    await transport.attach(id, (message, done) => this.#arrive(id, route, message, done));
    await this.#local.add(id, route);
  }

  async delete(id: string, reason: Error): Promise<void> {
    this.#leaving.add(id);
    try {
      await this.#local.delete(id, reason);
      for (const key of this.#unacked.keys()) if (key.startsWith(`${id}\n`)) this.#unacked.delete(key);
      await this.#transport?.detach(id);
    } finally {
      this.#leaving.delete(id);
    }
  }

  interrupted(id: string, reason: Error): void {
    this.#local.interrupted(id, reason);
  }

  closing(): void {
    this.#local.closing();
  }

  /** What the dead instance took and never answered comes again, to the new one: at least once. */
  restarted(id: string): void {
    this.#transport?.redeliver(id);
  }

  /** Every message goes through the broker, where anyone bound to the exchange may see it. */
  watched(): boolean {
    return true;
  }

  /** Every message goes through the broker, so an envelope is always opened. */
  forward(envelope: Envelope): void {
    for (const message of open(envelope)) this.route(message);
  }

  route(message: Message): void {
    this.#observe(message);
    if (isAnswer(message) && message.meta.parent_id !== undefined) this.#ack(message.from, message.meta.parent_id);
    if (this.#leaving.has(message.to)) this.#fail(message, new AgentNotFoundError(`agent "${message.to}" has left`));
    else if (this.#transport) this.#transport.publish(message);
    else this.#fail(message, new AmqpConnectionError("the space is not connected to its broker"));
  }

  #arrive(id: string, route: Route, message: Message, done: () => void): void {
    if (!this.#local.has(id)) {
      // Its agent left while the queue was still being deleted: say so rather than drop it.
      done();
      if (message.to === id && !isAnswer(message)) this.route(answerTo(message, id, false, new AgentNotFoundError(`agent "${id}" has left`)));
      return;
    }
    if (message.to === id && !isAnswer(message)) this.#unacked.set(`${id}\n${message.meta.id}`, done);
    else done();
    // A message from this process was observed when it was published.
    if (!this.#local.has(message.from)) this.#observe(message);
    route.deliver(message);
  }

  #ack(agentId: string, messageId: string): void {
    const key = `${agentId}\n${messageId}`;
    const done = this.#unacked.get(key);
    if (!done) return;
    this.#unacked.delete(key);
    done();
  }

  /** Answers a message that never reached anyone, in this process, where its sender is. */
  #fail(message: Message, error: Error): void {
    if (isAnswer(message) || message.to === BROADCAST) return;
    this.#local.route(answerTo(message, message.to, false, error));
  }

  #listen(transport: AmqpTransport): void {
    this.#transport = transport;
    const where = `exchange "${transport.exchange}"`;
    transport.on("unroutable", (message) => this.#fail(message, new AgentNotFoundError(`no agent "${message.to}" on ${where}`)));
    transport.on("publishFailed", (message, error) => this.#fail(message, error));
    transport.on("disconnected", (error) =>
      this.#report(new AmqpConnectionError(`lost the broker (${error.message}); reconnecting`, { cause: error })),
    );
    transport.on("attachmentLost", (id, error) => this.#report(new AmqpConnectionError(`agent "${id}" lost its queues: ${error.message}`)));
    transport.on("error", this.#report);
  }
}
