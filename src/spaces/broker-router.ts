import { ErrorsOnlyRequests } from "../answer-mark.js";
import { answerTo } from "../answer.js";
import { debugRefusal, namesDebugAction, type DebugMode } from "../debug-gate.js";
import { AgentNotFoundError, AgentspaceError, StateFencedError } from "../errors.js";
import { BROADCAST, isAnswer, type Message } from "../message.js";
import { open, type Envelope } from "../protocol.js";
import { Router, type MessageRouter, type Route } from "../router.js";
import type { BrokerTransport } from "./broker-transport.js";
import { StateCommits } from "./state-commits.js";

/** A leaving agent's answers to agents here are waited for this long at most before its askers are told it left. */
const ANSWERS_BACK_MS = 2_000;
/** Answers on their way remembered per agent, at most. */
const MAX_ANSWERS_OUT = 10_000;

/** Debug-action messages remembered at once, at most; the oldest are forgotten first. */
const MAX_DEBUG_SENT = 10_000;

/**
 * The router of a space on a broker (RabbitMQ, Redis: see BrokerTransport):
 * every message is published to the broker (so agents in other processes,
 * and Python Agency's, see the same traffic), and what the broker delivers to
 * this process's queues or streams goes to its agents.
 *
 * Delivery is acknowledged late: a direct message is acked once its agent
 * has answered it (every action answers), so the broker's bound is real
 * backpressure on a busy agent. Answers and broadcasts are acked on arrival.
 *
 * Debug actions: on arrival nothing tells a foreground agent of this process
 * from a peer that wrote its id into `from`, so a message naming one is let
 * in only if this process published it (it passed the sender's check on its
 * way out), unless the space opened them with `debug: "remote"`.
 */
export class BrokerRouter implements MessageRouter {
  /** This process's agents: who is here, and who to tell when one leaves. */
  #local = new Router();
  #transport: BrokerTransport | undefined;
  #connecting: Promise<BrokerTransport>;
  /**
   * Per agent, per message id: the acks of the deliveries it has not yet
   * answered, oldest first. A list, not one: a peer may reuse an id (a retry,
   * a foreign framework), and each delivery holds a place under prefetch.
   */
  #unacked = new Map<string, Map<string, Array<() => void>>>();
  /** Debug-action messages this process published, by id: who sent each, and which agents here may still take it. */
  #debugSent = new Map<string, { from: string; to: Set<string> }>();
  #debug: DebugMode;
  /** Ids whose queues or mailboxes are being deleted: a message to one would die there. */
  #leaving = new Set<string>();
  /** Sends that arrived marked errors-only: their `[response]` is not published (it would cross the broker to be dropped). */
  readonly #errorsOnly = new ErrorsOnlyRequests();
  /**
   * Durable agents' states that came up just before the answer they go with
   * (see StateItem): by agent, the message it handled and its state then.
   */
  readonly #states = new Map<string, { of: string; state: string }>();
  /** Per agent here, the ids of its answers to agents here still on their way through the broker. */
  readonly #answersOut = new Map<string, Set<string>>();
  /** Removals (and failure notices) waiting for those answers, by agent. */
  readonly #answersBack = new Map<string, Array<() => void>>();
  /** Where those states go, when the broker keeps states. */
  #commits: StateCommits | undefined;
  /**
   * Whether `id`'s mailbox outlives its agent here (a virtual agent, which
   * passivates): a message to it while it leaves is not refused, but waits
   * on the broker for its next activation.
   */
  outlives: (id: string) => boolean = () => false;
  #observe: (message: Message) => void;
  #report: (error: Error) => void;
  #fenced: (id: string, error: Error) => void;

  constructor(
    connecting: Promise<BrokerTransport>,
    observe: (message: Message) => void,
    report: (error: Error) => void,
    debug: DebugMode,
    fenced: (id: string, error: Error) => void = () => {},
  ) {
    this.#connecting = connecting;
    this.#observe = observe;
    this.#report = report;
    this.#debug = debug;
    this.#fenced = fenced;
    connecting.then(
      (transport) => this.#listen(transport),
      () => {}, // reported by the first add, which awaits the same promise
    );
  }

  has(id: string): boolean {
    return this.#local.has(id);
  }

  /** Attaches `id` on the broker; rejects with DuplicateAgentError if anyone on the broker holds it. */
  async add(id: string, route: Route): Promise<void> {
    const transport = await this.#connecting;
    await transport.attach(id, (message, done) => this.#arrive(id, route, message, done));
    await this.#local.add(id, route);
  }

  async delete(id: string, reason: Error): Promise<void> {
    this.#leaving.add(id);
    this.#transport?.leaving?.(id);
    try {
      // Its answers to agents here go round through the broker: those already sent arrive
      // before its askers here are told it left, or a request it answered would fail.
      await this.#answersArrived(id);
      await this.#local.delete(id, reason);
      this.#unacked.delete(id);
      this.#states.delete(id);
      this.#commits?.forget(id);
      await this.#transport?.detach(id);
    } finally {
      this.#leaving.delete(id);
    }
  }

  interrupted(id: string, reason: Error): void {
    // As at a departure: what it answered before it failed arrives before its askers hear of the failure.
    if (!this.#answersOut.get(id)?.size) return this.#local.interrupted(id, reason);
    void this.#answersArrived(id).then(() => this.#local.interrupted(id, reason));
  }

  asked(sender: Route, from: string, to: string): void {
    this.#local.asked(sender, from, to);
  }

  closing(): void {
    this.#local.closing();
  }

  /** What the dead instance took and never answered comes again, to the new one: at least once. */
  restarted(id: string): void {
    // The dead instance will answer none of them, and each comes again with an ack of its own.
    this.#unacked.delete(id);
    this.#states.delete(id);
    this.#transport?.redeliver(id);
  }

  /** Every message goes through the broker, where anyone bound to the exchange may see it. */
  watched(): boolean {
    return true;
  }

  /** Every message goes through the broker, so an envelope is always opened (none comes from this space's hosts: they do not seal for a broker). */
  forward(envelope: Envelope): string | undefined {
    const messages = open(envelope);
    if (typeof messages === "string") return messages;
    for (const message of messages) this.route(message);
    return undefined;
  }

  route(message: Message): void {
    this.#observe(message);
    const parent = isAnswer(message) ? message.meta.parent_id : undefined;
    if (parent !== undefined) {
      const held = this.#states.get(message.from);
      if (held?.of === parent) {
        this.#states.delete(message.from);
        return this.#commit(message, parent, held.state);
      }
      this.#ack(message.from, parent);
    }
    this.#publish(message);
  }

  /**
   * Durable agent `id` handled message `of` and its state is now `state`:
   * written with the answer that follows when `of` is a delivery it must
   * answer, else with its next write (it handled an answer, or a broadcast).
   */
  stateWritten(id: string, of: string | undefined, state: string): void {
    if (!this.#local.has(id) || !this.#commits) return; // from a thread, about an agent no longer here
    if (of !== undefined && this.#unacked.get(id)?.has(of)) {
      this.#states.set(id, { of, state });
      return;
    }
    this.#commits.add(id, state);
  }

  /**
   * The state, the acknowledgement and the answer go in one step: the
   * transport writes the state and delivers the answer with it (a crash
   * between the two would lose the answer, or apply the message twice).
   */
  #commit(answer: Message, of: string, state: string): void {
    // What the sender would drop on arrival is neither sent nor recorded: a replay sends what was sent.
    const wanted = !this.#errorsOnly.unwanted(answer);
    this.#commits?.add(answer.from, state, { of, answer: wanted ? JSON.stringify(answer) : "", to: answer.to });
  }

  /** Durable states go to a transport that keeps them (Redis), coalesced per agent per turn. */
  #keepStates(transport: BrokerTransport): void {
    const commit = transport.commit;
    if (!commit) return;
    this.#commits = new StateCommits({
      commit: (id, state, handled) => commit.call(transport, id, state, handled),
      written: (id, handled) => {
        for (const { of } of handled) this.#ack(id, of);
      },
      fenced: (id) =>
        this.#fenced(
          id,
          new StateFencedError(
            `agent "${id}" may no longer write its state in ${transport.where}: another process took its id ` +
              `(this one stalled past its lease, or lost Redis for longer); this process's instance stops, and its last messages go to the new holder`,
          ),
        ),
      failed: (id, error) => this.#report(new Error(`writing the state of "${id}" failed: ${error.message}`, { cause: error })),
    });
  }

  #publish(message: Message): void {
    const transport = this.#transport;
    if (this.#leaving.has(message.to) && !this.outlives(message.to)) return this.#fail(message, new AgentNotFoundError(`agent "${message.to}" has left`));
    if (!transport) return this.#fail(message, new AgentspaceError("the space is not connected to its broker"));
    if (namesDebugAction(message) && this.#debug !== "remote") this.#rememberDebug(message, transport);
    // The value answering a send marked errors-only: its sender would drop it on arrival.
    if (this.#errorsOnly.unwanted(message)) return;
    if (isAnswer(message) && this.#local.has(message.to)) this.#onTheWay(message);
    transport.publish(message);
  }

  #arrive(id: string, route: Route, message: Message, done: () => void): void {
    this.#errorsOnly.arrived(message);
    if (isAnswer(message)) this.#arrivedBack(message);
    if (!this.#local.has(id)) {
      // Not done: it stays taken on the broker, and comes again to the id's next activation.
      if (this.outlives(id)) return;
      // Its agent left while the queue was still being deleted: say so rather than drop it.
      done();
      if (message.to === id && !isAnswer(message)) this.#refuse(message, id, new AgentNotFoundError(`agent "${id}" has left`));
      return;
    }
    // A message from this process was observed when it was published.
    if (!this.#local.has(message.from)) this.#observe(message);
    const refusal = this.#debugRefusal(id, message);
    if (refusal) {
      done();
      return this.#refuse(message, id, refusal);
    }
    if (message.to === id && !isAnswer(message)) this.#holdAck(id, message.meta.id, done);
    else done();
    route.deliver(message);
  }

  /**
   * Answers for agent `id` a message it never got. Not through `route`: this
   * answer stands for no delivery, and must not ack another one that shares
   * the message's id and is still at work.
   */
  #refuse(message: Message, id: string, error: Error): void {
    const answer = answerTo(message, id, false, error);
    this.#observe(answer);
    this.#publish(answer);
  }

  #holdAck(agentId: string, messageId: string, done: () => void): void {
    let byMessage = this.#unacked.get(agentId);
    if (!byMessage) this.#unacked.set(agentId, (byMessage = new Map()));
    const waiting = byMessage.get(messageId);
    if (waiting) waiting.push(done);
    else byMessage.set(messageId, [done]);
  }

  /** An answer acks one delivery of the message it answers: the oldest one of that id not yet answered. */
  #ack(agentId: string, messageId: string): void {
    const byMessage = this.#unacked.get(agentId);
    const waiting = byMessage?.get(messageId);
    if (!byMessage || !waiting) return;
    const done = waiting.shift()!;
    if (waiting.length === 0) byMessage.delete(messageId);
    if (byMessage.size === 0) this.#unacked.delete(agentId);
    done();
  }

  /** An answer from an agent here to an agent here, now on its way through the broker. */
  #onTheWay(answer: Message): void {
    let ids = this.#answersOut.get(answer.from);
    if (!ids) this.#answersOut.set(answer.from, (ids = new Set()));
    ids.add(answer.meta.id);
    // Bounded: an answer the broker lost (or that never comes back) must not be waited for by every later removal.
    if (ids.size > MAX_ANSWERS_OUT) ids.delete(ids.values().next().value!);
  }

  #arrivedBack(answer: Message): void {
    const ids = this.#answersOut.get(answer.from);
    if (!ids?.delete(answer.meta.id) || ids.size > 0) return;
    this.#answersOut.delete(answer.from);
    for (const resolve of this.#answersBack.get(answer.from) ?? []) resolve();
    this.#answersBack.delete(answer.from);
  }

  /** Resolves once the answers `id` sent to agents here have come back (ANSWERS_BACK_MS at most). */
  async #answersArrived(id: string): Promise<void> {
    if (!this.#answersOut.get(id)?.size) return;
    let timer: NodeJS.Timeout | undefined;
    const arrived = await new Promise<boolean>((resolve) => {
      let waiting = this.#answersBack.get(id);
      if (!waiting) this.#answersBack.set(id, (waiting = []));
      waiting.push(() => resolve(true));
      timer = setTimeout(() => resolve(false), ANSWERS_BACK_MS);
    });
    clearTimeout(timer);
    // Given up on (lost on the broker): later waits must not wait for them again.
    if (!arrived) {
      this.#answersOut.delete(id);
      this.#answersBack.delete(id);
    }
  }

  /** Remembers a debug-action message on its way out, for the agents of this process it may reach. */
  #rememberDebug(message: Message, transport: BrokerTransport): void {
    const here = message.to === BROADCAST ? transport.ids : this.#local.has(message.to) ? [message.to] : [];
    if (here.length === 0) return; // it goes to another process, which trusts only its own
    const to = new Set(here);
    this.#debugSent.delete(message.meta.id);
    this.#debugSent.set(message.meta.id, { from: message.from, to });
    if (this.#debugSent.size > MAX_DEBUG_SENT) this.#debugSent.delete(this.#debugSent.keys().next().value!);
  }

  /** Why agent `id` may not take `message`, which came from the broker; undefined when it may. */
  #debugRefusal(id: string, message: Message): Error | undefined {
    if (this.#debug === "remote" || !namesDebugAction(message)) return undefined;
    const sent = this.#debugSent.get(message.meta.id);
    // Taken once per agent it was sent to: a replay of the same id is refused.
    if (sent && sent.from === message.from && sent.to.delete(id)) {
      if (sent.to.size === 0) this.#debugSent.delete(message.meta.id);
      return undefined;
    }
    return debugRefusal(message, false, this.#debug);
  }

  /** Answers a message that never reached anyone, in this process, where its sender is. */
  #fail(message: Message, error: Error): void {
    if (isAnswer(message) || message.to === BROADCAST) return;
    this.#local.route(answerTo(message, message.to, false, error));
  }

  #listen(transport: BrokerTransport): void {
    this.#transport = transport;
    this.#keepStates(transport);
    const where = transport.where;
    transport.on("unroutable", (message) => this.#fail(message, new AgentNotFoundError(`no agent "${message.to}" on ${where}`)));
    transport.on("publishFailed", (message, error) => this.#fail(message, error));
    transport.on("abandoned", (message, error) => this.#refuse(message, message.to, error));
    transport.on("disconnected", (error) =>
      this.#report(transport.connectionError(`lost the connection to ${where} (${error.message}); reconnecting`, { cause: error })),
    );
    transport.on("attachmentLost", (id, error) => {
      if (error instanceof StateFencedError) return this.#fenced(id, error);
      this.#report(transport.connectionError(`agent "${id}" was detached: ${error.message}`, { cause: error }));
    });
    transport.on("error", this.#report);
  }
}
