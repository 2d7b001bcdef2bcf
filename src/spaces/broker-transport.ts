import type { EventEmitter } from "eventemitter3";
import type { Message } from "../message.js";
import type { CommitOutcome, HandledMessage } from "./state-commits.js";

/**
 * Hands a message to its agent. The broker counts it as taken until `done()`
 * is called; `redeliver(id)` hands back those not done, to be delivered again.
 */
export type Deliver = (message: Message, done: () => void, redelivered: boolean) => void;

/** What a broker transport tells the router of a space on it. */
export interface BrokerTransportEvents {
  /** Back after a reconnect: every id attached again, held messages flowing. */
  connected: () => void;
  /** The broker went away; publishes are held and reconnection is under way. */
  disconnected: (error: Error) => void;
  /** No agent holds the message's `to`: answer its sender. */
  unroutable: (message: Message) => void;
  /** The message never reached the broker (refused, too large, a value JSON cannot carry, transport closed). */
  publishFailed: (message: Message, error: Error) => void;
  /** A message that waited for an agent whose mailbox ended with it (a durable transport): answer its sender with `error`. */
  abandoned: (message: Message, error: Error) => void;
  /** `id` is no longer attached (another process took it while we were away). */
  attachmentLost: (id: string, error: Error) => void;
  /** Something went wrong that concerns no one call: a malformed message dropped, a failed recovery. */
  error: (error: Error) => void;
}

/**
 * What BrokerRouter needs of a broker: attach an agent id (and refuse one
 * held anywhere else), publish a message to whoever holds its `to`, and hand
 * over what arrives for the ids attached here, to be acknowledged late.
 * AMQP and Redis each implement it; the router is the same on both.
 */
export interface BrokerTransport extends Pick<EventEmitter<BrokerTransportEvents>, "on"> {
  /** Where messages go, for error texts: `exchange "agency"`, `namespace "prod" on Redis at host:6379`. */
  readonly where: string;
  /** Ids attached through this transport. */
  readonly ids: string[];
  /** Starts delivering `id`'s messages to `deliver`; rejects with DuplicateAgentError when anyone holds `id`. */
  attach(id: string, deliver: Deliver): Promise<void>;
  /** Stops delivering `id`'s messages and gives up the id. */
  detach(id: string): Promise<void>;
  /**
   * `id`'s agent is leaving (its detach follows): a transport whose messages
   * outlive the agent may stop handing them over now and keep them for the
   * next holder of the id, rather than have the router refuse them meanwhile.
   */
  leaving?(id: string): void;
  /** Every message of `id` delivered and not yet done comes again. */
  redeliver(id: string): void;
  /** Publishes without waiting; problems come back as events. */
  publish(message: Message): void;
  /** An error of this transport's kind saying it cannot reach its broker. */
  connectionError(message: string, options?: ErrorOptions): Error;
  /**
   * A broker that keeps durable agents' states (Redis): writes `id`'s state
   * with the acknowledgements of the messages it handled and the record that
   * they were applied, with their answers, which it also delivers (see RedisTransport.commit).
   */
  commit?(id: string, state: string, handled: HandledMessage[]): Promise<CommitOutcome>;
  /** Durable agent `id`'s last state, for the next start of its instance. */
  stateOf?(id: string): string | undefined;
}
