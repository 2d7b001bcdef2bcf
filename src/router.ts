import { answerTo } from "./answer.js";
import { AgentNotFoundError, withoutStack } from "./errors.js";
import { BROADCAST, isAnswer, type Message } from "./message.js";
import { AskerIndex } from "./asker-index.js";
import { open, type Envelope } from "./protocol.js";

/** Where the router hands an agent's messages: its mailbox in this thread, or its worker's port. */
export interface Route {
  deliver(message: Message): void;
  /** Takes a sealed envelope as it is, or says false (then its messages come one by one). */
  deliverSealed?(envelope: Envelope): boolean;
  /** Another agent left or crashed: requests to it can no longer be answered. */
  peerGone(peerId: string, reason: Error): void;
  /** The host where thread-mates' broadcasts reach it directly: broadcasts from there leave it out. */
  readonly localIn?: object | undefined;
  /** The agent it last sent an action to, as the router recorded (see `asked`): a sender mostly asks the same one again. */
  lastAsked?: string | undefined;
}

/** What spaces and worker wiring need of a router, whatever moves the messages. */
export interface MessageRouter {
  /** Whether `id` is an agent of this space, here. */
  has(id: string): boolean;
  /** Starts routing messages for `id` to `route`; may refuse the id. */
  add(id: string, route: Route): Promise<void>;
  /** Stops routing to `id`; the agents that asked it something are told it is gone. */
  delete(id: string, reason: Error): Promise<void>;
  /** `id`'s instance died but its route stays (it restarts): the agents that asked it something are told, so requests to it end. */
  interrupted(id: string, reason: Error): void;
  /** `id` runs again after a restart. */
  restarted(id: string): void;
  /** The space is being destroyed: every agent goes, so none needs telling of another's departure. */
  closing(): void;
  /** Routes `message`; `origin`, the host it comes from (its thread-mates there have had a broadcast already). */
  route(message: Message, origin?: object): void;
  /**
   * Routes a sealed envelope: passed on unopened where it can be, else opened
   * and each message routed. Returns why it was dropped whole when, opened,
   * it was not what it said (see `open`).
   */
  forward(envelope: Envelope, origin?: object): string | undefined;
  /**
   * Agent `from` (whose route is `sender`) sent `to` an action through the
   * router: when `to` goes, `from` is told (its requests may wait on it).
   */
  asked(sender: Route, from: string, to: string): void;
  /** Whether anything besides its receiver sees a message on its way (a `message` listener, a broker). */
  watched(): boolean;
  /**
   * Durable agent `id` of a worker thread handled message `of` (undefined: an
   * answer) and its state is now `state` (see StateItem): a router whose
   * transport keeps states writes it before it passes on the answer behind it.
   */
  stateWritten?(id: string, of: string | undefined, state: string): void;
}

/**
 * Decides who gets each message: one agent by id, or every agent for `"*"`.
 * A message to an id no agent holds is answered at once with
 * AgentNotFoundError, so a request never waits out its timeout for it.
 */
export class Router implements MessageRouter {
  #routes = new Map<string, Route>();
  #askers = new AskerIndex();
  #observe: (message: Message) => void;
  #observed: () => boolean;
  #closing = false;

  /** `observe` sees every message routed; `observed` says whether anyone looks (else envelopes pass unopened). */
  constructor(observe: (message: Message) => void = () => {}, observed: () => boolean = () => false) {
    this.#observe = observe;
    this.#observed = observed;
  }

  has(id: string): boolean {
    return this.#routes.has(id);
  }

  async add(id: string, route: Route): Promise<void> {
    this.#routes.set(id, route);
  }

  /**
   * Takes `id` out and tells the agents that asked it something, in order
   * with the messages already routed to it.
   */
  async delete(id: string, reason: Error): Promise<void> {
    if (!this.#routes.delete(id)) return;
    this.interrupted(id, reason);
    this.#askers.forgetAsker(id);
  }

  /**
   * Only the agents that sent `id` an action since it last went can be
   * waiting on it: a request sent later finds it gone (or back) in the
   * router. Telling only them keeps a departure's cost flat in the number
   * of agents.
   */
  interrupted(id: string, reason: Error): void {
    // While the space closes, N departures would each tell N agents: quadratic, and for nobody.
    if (this.#closing) return;
    for (const asker of this.#askers.takeAskersOf(id)) {
      const route = asker === id ? undefined : this.#routes.get(asker);
      if (!route) continue;
      // The index forgot the ask: a later action to the same id must be recorded again.
      if (route.lastAsked === id) route.lastAsked = undefined;
      route.peerGone(id, reason);
    }
  }

  restarted(_id: string): void {}

  closing(): void {
    this.#closing = true;
    this.#askers.clear();
  }

  asked(sender: Route, from: string, to: string): void {
    if (sender.lastAsked === to) return;
    sender.lastAsked = to;
    this.#askers.asked(from, to);
  }

  route(message: Message, origin?: object): void {
    this.#observe(message);
    if (message.to === BROADCAST) {
      for (const route of this.#routes.values()) if (origin === undefined || route.localIn !== origin) route.deliver(message);
      return;
    }
    const route = this.#routes.get(message.to);
    if (route) route.deliver(message);
    else this.#undeliverable(message);
  }

  // The main thread's share of a message between two workers: an envelope is
  // moved on without being opened or copied, unless somebody watches the
  // messages or the receiver cannot take it whole.
  forward(envelope: Envelope, origin?: object): string | undefined {
    if (!this.watched() && this.#routes.get(envelope.to)?.deliverSealed?.(envelope)) return undefined;
    const messages = open(envelope);
    if (typeof messages === "string") return messages;
    for (const message of messages) this.route(message, origin);
    return undefined;
  }

  watched(): boolean {
    return this.#observed();
  }

  #undeliverable(message: Message): void {
    if (isAnswer(message)) return; // its requester left: nobody is waiting for it
    const error = withoutStack(() => new AgentNotFoundError(`no agent "${message.to}" in this space`));
    this.route(answerTo(message, message.to, false, error));
  }
}
