import { answerTo } from "./answer.js";
import { AgentNotFoundError, handsBack, withoutStack } from "./errors.js";
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
  /** Starts routing messages for `id` to `route`; may refuse the id (a transport's add may be a promise: awaited, and its rejection the refusal). */
  add(id: string, route: Route): void | Promise<void>;
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
  /** A message that waited for passivating agent `id` in its thread, handed back (see HandedBackItem); false: not awaited, dropped. */
  handBack?(id: string, message: Message): boolean;
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
  #unheld: (message: Message) => boolean;
  /** Told of each message routed to one agent, while virtual agents are about (see Space.virtual); else undefined, and free. */
  touched: ((id: string) => void) | undefined;
  /** Ids whose messages wait here, in order, for the route they are to go to (a virtual agent activating or passivating). */
  #holding = new Map<string, Message[]>();
  #closing = false;

  /**
   * `observe` sees every message routed; `observed` says whether anyone looks
   * (else envelopes pass unopened); `unheld` is asked about an action for an id
   * no agent holds, and true means it is being taken care of (a virtual agent
   * activates): the message waits here for the id's route.
   */
  constructor(
    observe: (message: Message) => void = () => {},
    observed: () => boolean = () => false,
    unheld: (message: Message) => boolean = () => false,
  ) {
    this.#observe = observe;
    this.#observed = observed;
    this.#unheld = unheld;
  }

  has(id: string): boolean {
    return this.#routes.has(id);
  }

  /** Adds `id`'s route; what waited for it here goes to it first, in order. */
  add(id: string, route: Route): void {
    this.#routes.set(id, route);
    const held = this.#holding.get(id);
    if (!held) return;
    this.#holding.delete(id);
    for (const message of held) {
      this.touched?.(id);
      route.deliver(message);
    }
  }

  /** From now on `id`'s messages wait here (its route stays), until `add` gives it a new route or `release`. */
  hold(id: string): void {
    if (!this.#holding.has(id)) this.#holding.set(id, []);
  }

  /**
   * Ends a hold: what waited goes to `id`'s route if it has one, else
   * each action is answered with `error` (none: AgentNotFoundError).
   * Returns how many messages waited.
   */
  release(id: string, error?: Error): number {
    const held = this.#holding.get(id);
    if (!held) return 0;
    this.#holding.delete(id);
    for (const message of held) {
      const route = this.#routes.get(id);
      if (route) route.deliver(message);
      else if (error && !isAnswer(message)) this.route(answerTo(message, id, false, error));
      else this.#undeliverable(message);
    }
    return held.length;
  }

  handBack(id: string, message: Message): boolean {
    const held = this.#holding.get(id);
    if (!held || message.to !== id) return false;
    // An answer for the instance that went: nobody left to take it.
    if (!isAnswer(message)) held.push(message);
    return true;
  }

  /** How many messages wait for `id` (see hold). */
  holding(id: string): number {
    return this.#holding.get(id)?.length ?? 0;
  }

  /**
   * Takes `id` out and tells the agents that asked it something, in order
   * with the messages already routed to it.
   */
  async delete(id: string, reason: Error): Promise<void> {
    if (!this.#routes.delete(id)) return;
    // Passivated, it comes back for what its askers sent: they are not told, but the index forgets them all the same.
    this.interrupted(id, reason, !handsBack(reason));
    this.#askers.forgetAsker(id);
  }

  /**
   * Only the agents that sent `id` an action since it last went can be
   * waiting on it: a request sent later finds it gone (or back) in the
   * router. Telling only them keeps a departure's cost flat in the number
   * of agents.
   */
  interrupted(id: string, reason: Error, tell = true): void {
    // While the space closes, N departures would each tell N agents: quadratic, and for nobody.
    if (this.#closing) return;
    for (const asker of this.#askers.takeAskersOf(id)) {
      const route = asker === id ? undefined : this.#routes.get(asker);
      if (!route) continue;
      // The index forgot the ask: a later action to the same id must be recorded again.
      if (route.lastAsked === id) route.lastAsked = undefined;
      if (tell) route.peerGone(id, reason);
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
    const held = this.#holding.size > 0 ? this.#holding.get(message.to) : undefined;
    if (held) return void held.push(message);
    const route = this.#routes.get(message.to);
    if (!route) return this.#undeliverable(message);
    this.touched?.(message.to);
    route.deliver(message);
  }

  // The main thread's share of a message between two workers: an envelope is
  // moved on without being opened or copied, unless somebody watches the
  // messages or the receiver cannot take it whole.
  forward(envelope: Envelope, origin?: object): string | undefined {
    const held = this.#holding.size > 0 && this.#holding.has(envelope.to);
    if (!held && !this.watched() && this.#routes.get(envelope.to)?.deliverSealed?.(envelope)) return undefined;
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
    // Held before it is asked: an activation may add the id's route at once, and that delivers what is held.
    this.#holding.set(message.to, [message]);
    if (this.#unheld(message)) return;
    this.#holding.delete(message.to);
    const error = withoutStack(() => new AgentNotFoundError(`no agent "${message.to}" in this space`));
    this.route(answerTo(message, message.to, false, error));
  }
}
