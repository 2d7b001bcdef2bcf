import { randomBytes } from "node:crypto";
import { EventEmitter } from "eventemitter3";
import type { MailboxOptions } from "../host/mailbox.js";
import { AgentNotFoundError, AgentspaceError, DuplicateAgentError, MessageValidationError, StateFencedError } from "../errors.js";
import { BROADCAST, agentIdProblem, isAnswer, validateIncoming, type Message } from "../message.js";
import type { BrokerTransport, BrokerTransportEvents, Deliver } from "../spaces/broker-transport.js";
import type { CommitOutcome, HandledMessage } from "../spaces/state-commits.js";
import { RedisConnection, isPassingRefusal, isReplyError, type Reply } from "./connection.js";
import { DirectExchange } from "./direct/exchange.js";
import { RedisConnectionError } from "./errors.js";
import { Keys } from "./keys.js";
import { Mailbox, decodeEntry } from "./mailbox.js";
import {
  DEFAULT_NAMESPACE,
  namespaceProblem,
  resolveDirect,
  type DirectOptions,
  resolveRedisOptions,
  resolveTuning,
  type RedisConnectionOptions,
  type RedisTuning,
  type ResolvedTuning,
} from "./options.js";
import { Outbox } from "./outbox.js";
import { Reader } from "./reader.js";
import { ActivationQueue, type ServedKind } from "./activations.js";
import { ACQUIRE, ACTIVATIONS_KEPT, APPLIED_WINDOW, COMMIT, ORPHANS, RELEASE, RENEW, SERVE } from "./scripts.js";

export interface RedisTransportSettings {
  redis?: RedisConnectionOptions;
  /** Processes naming the same namespace on the same Redis form one space (default "agentspace"). */
  namespace?: string;
  tuning?: RedisTuning;
  /** The mailbox bound of an id being attached (default: 10,000, "reject"). */
  mailboxOf?: (id: string) => MailboxOptions;
  /** Whether the agent of an id being attached is durable (its state kept next to its mailbox). */
  durableOf?: (id: string) => boolean;
  /** Whether a detach leaves the mailbox open (asked at each detach). */
  keepMailboxes?: () => boolean;
  /** Listen on a TCP port and send to agents of other live processes straight over it (see DirectExchange). */
  direct?: boolean | DirectOptions;
}

/** Per attached agent, what Redis holds for it. */
export interface MailboxFigures {
  /** Entries in its stream not yet taken by its agent (as of the last look, at most a second old). */
  waiting: number;
  /** Taken by its agent (from Redis, or over the direct path) and not yet acknowledged: its action has not answered. */
  unacked: number;
  /** Entries that were not valid messages: acknowledged, dropped and reported. */
  malformed: number;
}

const DEFAULT_MAILBOX: MailboxOptions = { size: 10_000, policy: "reject" };
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Moves agentspace messages through Redis Streams, one durable mailbox per
 * agent id in a namespace (see Keys for the layout). Per process: one command
 * connection and one blocking reader, whatever the number of agents; one
 * consumer name (a random token) in every mailbox's consumer group; one
 * lease per attached id, renewed while the process lives.
 *
 * Delivery is at least once: an entry is acknowledged (and deleted) only once
 * its `done` is called, and what a process took and never acknowledged is
 * delivered again to the next holder of the id.
 *
 * With `direct`, messages to agents of other live processes go straight over
 * TCP instead (DirectExchange), and come back here when that path fails.
 */
export class RedisTransport extends EventEmitter<BrokerTransportEvents> implements BrokerTransport {
  readonly keys: Keys;
  /** This process's consumer name and lease value. */
  readonly token = `${process.pid}-${randomBytes(8).toString("hex")}`;
  readonly #connection: RedisConnection;
  readonly #tuning: ResolvedTuning;
  readonly #settings: RedisTransportSettings;
  readonly #outbox: Outbox;
  readonly #reader: Reader;
  /** Attached mailboxes, by stream key and by agent id. */
  readonly #byKey = new Map<string, Mailbox>();
  readonly #byId = new Map<string, Mailbox>();
  readonly #attaching = new Set<string>();
  /** Acks not yet sent to Redis, or sent and not yet confirmed, by stream key. */
  #acks = new Map<string, Set<string>>();
  #acksInFlight = new Map<string, Set<string>>();
  #ackScheduled = false;
  readonly #timers: NodeJS.Timeout[] = [];
  #closing: Promise<void> | undefined;
  /** The hybrid path, when `direct` is on. */
  #direct: DirectExchange | undefined;
  /** The virtual kinds this process serves, by id prefix: their activations streams, read with the mailboxes. */
  readonly #serving = new Map<string, ActivationQueue>();
  /** Virtual ids whose activation here has not settled: one that leaves meanwhile failed to start. */
  readonly #activating = new Set<string>();
  /** Activation entries that were not an id of their kind, dropped (said once, then counted). */
  #badActivations = 0;

  private constructor(connection: RedisConnection, keys: Keys, tuning: ResolvedTuning, settings: RedisTransportSettings) {
    super();
    this.#connection = connection;
    this.keys = keys;
    this.#tuning = tuning;
    this.#settings = settings;
    this.#outbox = new Outbox(connection.commands, keys, tuning.maxBuffered);
    this.#outbox.on("unroutable", (message) => this.emit("unroutable", message));
    this.#outbox.on("publishFailed", (message, error) => this.emit("publishFailed", message, error));
    this.#reader = new Reader(connection, this.token, this.#byKey, {
      take: (box, entryId, fields, again) => this.#take(box, entryId, fields, again),
      known: (box, entryId) => (box instanceof ActivationQueue ? box.taking : box.pending).has(entryId) || this.#acked(box.key, entryId),
      regroup: (box) => (box instanceof ActivationQueue ? this.#register(box.kind) : this.#reacquire(box)),
      error: (error) => this.emit("error", error),
    }, tuning.blockMs);
    connection.on("disconnected", (error) =>
      this.emit("disconnected", new RedisConnectionError(`Redis at ${connection.server}: ${error.message}`, { cause: error })),
    );
    connection.on("connected", () => void this.#recover());
    const every = (ms: number, run: () => void) => this.#timers.push(setInterval(run, ms).unref());
    every(Math.floor(tuning.leaseMs / 3), () => void this.#renew());
    every(tuning.statsIntervalMs, () => void this.#measure());
    every(tuning.leaseMs, () => void this.#lookForOrphans());
  }

  /** Connects; rejects with RedisConnectionError, naming host and port, when Redis cannot be reached. */
  static async open(settings: RedisTransportSettings = {}): Promise<RedisTransport> {
    const namespace = settings.namespace ?? DEFAULT_NAMESPACE;
    const problem = namespaceProblem(namespace);
    if (problem) throw new TypeError(problem);
    const tuning = resolveTuning(settings.tuning);
    const direct = resolveDirect(settings.direct);
    const connection = await RedisConnection.open(resolveRedisOptions(settings.redis), tuning);
    const transport = new RedisTransport(connection, new Keys(namespace), tuning, settings);
    if (direct) {
      try {
        transport.#direct = await transport.#openDirect(direct);
      } catch (error) {
        await transport.close();
        throw error;
      }
    }
    return transport;
  }

  #openDirect(options: NonNullable<ReturnType<typeof resolveDirect>>): Promise<DirectExchange> {
    const settings = {
      options,
      commands: this.#connection.commands,
      keys: this.keys,
      token: this.token,
      leaseMs: this.#tuning.leaseMs,
      timeoutMs: this.#tuning.directTimeoutMs,
      maxBuffered: this.#tuning.maxBuffered,
    };
    return DirectExchange.open(settings, {
      boxes: this.#byId,
      toRedis: (message, settled) => this.#outbox.publish(message, settled),
      failed: (message, error) => this.emit("publishFailed", message, error),
      error: (error) => this.emit("error", error),
    });
  }

  /** Where this process takes direct connections (`host:port`); undefined without `direct`. */
  get directAddress(): string | undefined {
    return this.#direct?.address;
  }

  get where(): string {
    return `namespace "${this.keys.namespace}" on Redis at ${this.#connection.server}`;
  }

  get ids(): string[] {
    return [...this.#byId.keys()];
  }

  get connected(): boolean {
    return this.#connection.connected;
  }

  connectionError(message: string, options?: ErrorOptions): Error {
    return new RedisConnectionError(message, options);
  }

  /**
   * Takes `id` in the namespace: its lease, its mailbox (opened, or found
   * open with what waited in it), and what a process that held it before
   * took and never answered. Rejects with DuplicateAgentError while another
   * process holds the lease.
   */
  async attach(id: string, deliver: Deliver): Promise<void> {
    const problem = agentIdProblem(id);
    if (problem) throw new TypeError(problem);
    if (this.#closing) throw new RedisConnectionError("the Redis transport is closed");
    if (this.#byId.has(id) || this.#attaching.has(id)) throw new DuplicateAgentError(`agent id "${id}" is already attached here`);
    this.#attaching.add(id);
    try {
      const mailbox = this.#settings.mailboxOf?.(id) ?? DEFAULT_MAILBOX;
      const bound = mailbox.policy === "wait" ? mailbox.size * 2 : mailbox.size;
      const box = new Mailbox(id, this.keys.mailbox(id), deliver, Math.max(1, Math.min(this.#tuning.prefetch, mailbox.size)), bound);
      box.durable = this.#settings.durableOf?.(id) ?? false;
      if (!(await this.#acquire(box))) {
        throw new DuplicateAgentError(
          `agent id "${id}" is held elsewhere: another process of ${this.where} holds its lease ` +
            `(a process that died gives it up within ${this.#tuning.leaseMs} ms)`,
        );
      }
      this.#byKey.set(box.key, box);
      this.#byId.set(id, box);
      this.#reader.wake();
    } catch (error) {
      if (error instanceof DuplicateAgentError || error instanceof RedisConnectionError || isReplyError(error)) throw error;
      throw new RedisConnectionError(`lost Redis at ${this.#connection.server} while attaching "${id}": ${(error as Error).message}`, { cause: error });
    } finally {
      this.#attaching.delete(id);
    }
  }

  /**
   * `id`'s agent is leaving. When its mailbox is kept (or it passivates, an
   * id of a served virtual kind), nothing more is taken from it: what arrives
   * now waits in Redis for the next holder of the id,
   * instead of being refused on its way to an agent that is gone.
   */
  leaving(id: string): void {
    const box = this.#byId.get(id);
    if (box && ((this.#settings.keepMailboxes?.() ?? false) || this.#servedKindOf(id))) box.released = true;
  }

  /** `id`'s agent is being removed for good: a virtual agent's mailbox and state end with it (see Mailbox.ends). */
  ending(id: string): void {
    const box = this.#byId.get(id);
    if (box) box.ends = true;
  }

  /**
   * Serves virtual kind `kind` namespace-wide: registers it in Redis (from
   * now on an action to any id it names is taken into that id's mailbox,
   * and asks for its activation while nobody holds it), and takes this
   * process's share of its activations. Rejects with a TypeError when
   * another process registered the prefix for another class, or one that overlaps it.
   */
  async serve(kind: ServedKind): Promise<void> {
    if (this.#closing) throw new RedisConnectionError("the Redis transport is closed");
    await this.#register(kind);
    const queue = new ActivationQueue(kind, this.keys.activations(kind.prefix), this.#tuning.prefetch);
    this.#serving.set(kind.prefix, queue);
    this.#byKey.set(queue.key, queue);
    this.#reader.wake();
  }

  /** The virtual kind that `id` is of, among those this process serves. */
  #servedKindOf(id: string): ServedKind | undefined {
    for (const queue of this.#serving.values()) if (id.startsWith(queue.kind.prefix)) return queue.kind;
    return undefined;
  }

  async #register(kind: ServedKind): Promise<void> {
    const reply = await SERVE.run(this.#connection.commands, [this.keys.prefix, kind.prefix, kind.className, String(kind.bound)]);
    if (Array.isArray(reply) && reply[0] === 0) {
      const [, other, otherClass] = reply.map(String);
      throw new TypeError(
        other === kind.prefix
          ? `the virtual prefix "${kind.prefix}" is class ${otherClass} in ${this.where}, not ${kind.className}: serve it with ${otherClass}, or pick another prefix`
          : `the virtual prefix "${kind.prefix}" overlaps "${other}" (class ${otherClass}) in ${this.where}: an id must name one kind of virtual agent, so pick a prefix neither starts with`,
      );
    }
  }

  /** An entry of a served kind's activations stream: activated here, or handed back when this process is full. */
  #activation(queue: ActivationQueue, entryId: string, fields: Reply): void {
    const id = Array.isArray(fields) && fields.length === 2 && fields[0] === "id" && typeof fields[1] === "string" ? fields[1] : undefined;
    if (id === undefined || agentIdProblem(id) !== undefined || !id.startsWith(queue.kind.prefix)) {
      this.#ack(queue, entryId);
      // Redis is shared: anyone may write there. Said once; the rest are counted in that one error's kind.
      if (this.#badActivations++ === 0) {
        this.emit("error", new MessageValidationError(`dropped entry ${entryId} of ${queue.key}: an activation must have one field "id" holding an id that starts with "${queue.kind.prefix}" (further ones are dropped quietly)`));
      }
      return;
    }
    if (queue.free <= 0) {
      // Taken in a read beyond this process's capacity: another serving process takes it.
      this.#ack(queue, entryId);
      this.#connection.commands.sendCommand(["XADD", queue.key, "MAXLEN", "~", String(ACTIVATIONS_KEPT), "*", "id", id]).catch(() => {});
      return;
    }
    queue.taking.add(entryId);
    this.#activating.add(id);
    const settled = () => {
      this.#activating.delete(id);
      queue.taking.delete(entryId);
      this.#ack(queue, entryId);
      this.#roomAgain(queue);
    };
    if (this.#byId.has(id) || this.#attaching.has(id)) return settled();
    queue.kind.activate(id).then(settled, (error: Error) => {
      settled();
      this.emit("error", error);
    });
  }

  /**
   * Virtual agent `id` could not be activated here (`error`): its mailbox
   * is ended (its state kept), and the senders of what waited in it are told why.
   */
  async refuseActivation(id: string, error: Error): Promise<void> {
    const reply = await RELEASE.run(this.#connection.commands, [this.keys.prefix, id, this.token, "refuse"]);
    if (Array.isArray(reply)) this.#abandon(id, reply[1] ?? null, error);
  }

  /** Every lease: active ids of the served kinds whose holders died are asked to activate again when messages wait for them. */
  async #lookForOrphans(): Promise<void> {
    if (this.#serving.size === 0 || !this.#connection.connected || this.#closing) return;
    await ORPHANS.run(this.#connection.commands, [this.keys.prefix, ...this.#serving.keys()]).catch(() => {});
  }

  /** Gives up `id`: its lease, and (unless mailboxes are kept) its mailbox with whatever waits in it. */
  async detach(id: string): Promise<void> {
    const box = this.#byId.get(id);
    if (!box) return;
    this.#byId.delete(id);
    this.#byKey.delete(box.key);
    box.released = true;
    box.generation++;
    box.pending.clear();
    box.forgetWork();
    this.#direct?.inbox.drop(id);
    // A read blocked on its stream would take what comes next for the id's next holder: it ends before RELEASE (same connection, in order).
    this.#reader.wake();
    const keep = this.#settings.keepMailboxes?.() ?? false;
    // An id of a served virtual kind passivates: its state and what waits for it are its next activation's.
    // One that leaves before its activation settled failed to start: what waits for it is refused, or it would ask again at once.
    const virtual = this.#servedKindOf(id);
    const failed = virtual !== undefined && this.#activating.has(id);
    const mode = failed ? "refuse" : virtual && !box.ends ? "passivate" : keep ? "keep" : "drop";
    try {
      // What it answered must neither come back to the next holder of the id nor be refused below.
      await this.#flushAcks();
      const reply = await RELEASE.run(this.#connection.commands, [this.keys.prefix, id, this.token, mode, virtual?.prefix ?? ""]);
      const why = failed
        ? new AgentspaceError(`virtual agent "${id}" failed to start in ${this.where}: the next message to it activates it again`)
        : new AgentNotFoundError(`agent "${id}" was removed from ${this.where}`);
      if (Array.isArray(reply)) this.#abandon(id, reply[1] ?? null, why);
    } catch (error) {
      // Its lease runs out by itself; a mailbox left open is taken by the next add of the id.
      if (!this.#closing) this.emit("error", new RedisConnectionError(`could not give up "${id}" in Redis: ${(error as Error).message}`, { cause: error }));
    }
  }

  /** Tells the senders of what an ended mailbox still held (waiting, or taken and never answered) that its agent is gone. */
  #abandon(id: string, entries: Reply, error: Error): void {
    if (!Array.isArray(entries)) return;
    for (const entry of entries) {
      if (!Array.isArray(entry)) continue;
      let message: Message;
      try {
        message = decodeEntry(entry[1] ?? null, id);
      } catch {
        continue; // not a message: nobody to tell
      }
      if (message.to === id && !isAnswer(message)) this.emit("abandoned", message, error);
    }
  }

  /** Delivers again every entry of `id` taken and not yet done, in the order first taken. */
  redeliver(id: string): void {
    const box = this.#byId.get(id);
    if (!box) return;
    box.generation++;
    box.forgetWork();
    for (const [entryId, message] of [...box.pending]) {
      // A durable agent's message whose state was written as its instance died is not applied again (its answer went out then).
      if (box.durable && message.to === box.id && !isAnswer(message)) this.#takeOnce(box, entryId, message, true, false);
      else this.#deliver(box, entryId, message, true);
    }
    this.#direct?.inbox.redeliver(id);
  }

  publish(message: Message): void {
    // Broadcasts and this process's own agents keep to Redis: the registry knows every mailbox, and a local hop has no network to save.
    if (this.#direct && message.to !== BROADCAST && !this.#byId.has(message.to)) return this.#direct.publish(message);
    this.#outbox.publish(message);
  }

  /** What Redis holds for agent `id` of this process; undefined when it is not attached here. */
  figures(id: string): MailboxFigures | undefined {
    const box = this.#byId.get(id);
    if (!box) return undefined;
    const unacked = box.pending.size;
    const direct = this.#direct?.inbox.working(id) ?? 0;
    return { waiting: Math.max(0, box.length - unacked), unacked: unacked + direct, malformed: box.malformed };
  }

  /** Waits (bounded) for messages taken to reach Redis and for acks to be sent, then closes both connections. */
  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    // First: what peers did not acknowledge goes into Redis while the outbox still takes it.
    await this.#direct?.close(CLOSE_TIMEOUT_MS);
    await this.#outbox.close(CLOSE_TIMEOUT_MS);
    await this.#flushAcks().catch(() => {});
    this.#reader.stop();
    this.#connection.close();
    await this.#reader.done;
  }

  async #acquire(box: Mailbox): Promise<boolean> {
    const { prefix } = this.keys;
    const reply = await ACQUIRE.run(this.#connection.commands, [prefix, box.id, this.token, String(this.#tuning.leaseMs), String(box.bound)]);
    if (!Array.isArray(reply) || reply[0] !== 1) return false;
    // A state this process sent on its way already is newer than Redis's (a reacquire after a reconnect).
    if (box.durable && box.state === undefined && typeof reply[1] === "string") box.state = reply[1];
    return true;
  }

  /** Durable agent `id`'s last state (JSON text), as read with its lease or as its host last sent it. */
  stateOf(id: string): string | undefined {
    return this.#byId.get(id)?.state;
  }

  /**
   * Writes durable agent `id`'s state, after the messages it `handled` since
   * its last write, in one step with their acknowledgements, the record that
   * they were applied, and their answers put into their receivers' mailboxes
   * (see COMMIT). Tried again while Redis cannot be reached, with the newest
   * state by then (a later commit's must never be overwritten by an earlier
   * one's). "fenced": another process holds the id now (nothing was
   * written; this process's instance must stop); "gone": the id left this
   * process meanwhile.
   */
  async commit(id: string, state: string, handled: HandledMessage[]): Promise<CommitOutcome> {
    const first = this.#byId.get(id);
    if (!first) return "gone";
    first.state = state;
    for (;;) {
      const box = this.#byId.get(id);
      if (box !== first || this.#closing) return "gone";
      const entries = this.#entriesOf(box, handled);
      const args = [this.keys.prefix, id, this.token, String(this.#tuning.leaseMs), box.state ?? state, String(APPLIED_WINDOW)];
      handled.forEach(({ of, answer, to }, i) => args.push(entries[i]!, of, answer, to));
      let reply: Reply;
      try {
        reply = await COMMIT.run(this.#connection.commands, args);
      } catch (error) {
        if (isReplyError(error) && !isPassingRefusal(error)) throw error;
        await this.#connection.ready();
        if (this.#connection.closed) return "gone";
        await new Promise((resolve) => setTimeout(resolve, 50)); // never a busy loop, whatever Redis keeps saying
        continue;
      }
      if (reply !== 1) return "fenced";
      box.remember(handled);
      // Acknowledged by the script: the router's `done` for each finds nothing left to do.
      for (const entryId of entries) if (entryId) box.finished(entryId);
      this.#roomAgain(box);
      return "written";
    }
  }

  /** The stream entries the messages `handled` came in, "" for one that came another way (the direct path). */
  #entriesOf(box: Mailbox, handled: HandledMessage[]): string[] {
    const wanted = new Map<string, number[]>();
    handled.forEach(({ of }, i) => {
      const at = wanted.get(of);
      if (at) at.push(i);
      else wanted.set(of, [i]);
    });
    const entries = handled.map(() => "");
    for (const [entryId, message] of box.pending) {
      const at = wanted.get(message.meta.id);
      const i = at?.shift();
      if (i !== undefined) entries[i] = entryId;
    }
    return entries;
  }

  /** After a reconnect or a lost group: takes the id again, and reads its pending entries again. */
  async #reacquire(box: Mailbox): Promise<void> {
    if (box.released) return;
    if (await this.#acquire(box)) {
      box.sweep = true;
      return;
    }
    this.#lose(box, "another process took it while this one could not reach Redis");
  }

  #lose(box: Mailbox, why: string): void {
    if (this.#byId.get(box.id) !== box) return;
    this.#byId.delete(box.id);
    this.#byKey.delete(box.key);
    box.released = true;
    box.generation++;
    box.pending.clear();
    box.forgetWork();
    this.#direct?.inbox.drop(box.id);
    // A durable agent's state is its new holder's now: this process's instance must stop, not just lose its mailbox.
    const lost = box.durable
      ? new StateFencedError(
          `agent "${box.id}" may no longer write its state in ${this.where}: its lease is gone (${why}); this process's instance stops, and its messages go to the new holder`,
        )
      : new RedisConnectionError(`its lease in ${this.where} is gone: ${why}`);
    this.emit("attachmentLost", box.id, lost);
  }

  #take(box: Mailbox, entryId: string, fields: Reply, again: boolean): void {
    // Its agent is leaving: the entry stays pending, for the next holder of the id.
    if (box.released) return;
    if (box instanceof ActivationQueue) return this.#activation(box, entryId, fields);
    let message: Message;
    try {
      message = decodeEntry(fields, box.id);
    } catch (error) {
      // Acknowledged, so it cannot come back; counted, and said.
      this.#ack(box, entryId);
      box.malformed++;
      const why = error instanceof Error ? error.message : String(error);
      this.emit("error", new MessageValidationError(`dropped malformed entry ${entryId} in the mailbox of "${box.id}" (${this.where}): ${why}`, { cause: error }));
      return;
    }
    // A copy of a message that came direct (its sender lost the connection before it heard it was handled): acknowledged with that one.
    if (this.#direct?.inbox.absorb(message, () => this.#ack(box, entryId))) return;
    if (box.durable && message.to === box.id && !isAnswer(message)) return this.#takeOnce(box, entryId, message, again);
    this.#deliver(box, entryId, message, again);
  }

  /**
   * A message to a durable agent: delivered unless its id is among those the
   * agent applied (a copy sent again, or delivered again after a crash); then
   * the answer it got is sent again instead, and the entry acknowledged.
   * What one read took is looked up with one HMGET; deliveries keep their order.
   */
  #takeOnce(box: Mailbox, entryId: string, message: Message, again: boolean, replay = true): void {
    box.toLookUp.push({ entryId, message, again, replay });
    if (box.toLookUp.length === 1) queueMicrotask(() => this.#lookUp(box));
  }

  #lookUp(box: Mailbox): void {
    const batch = box.toLookUp;
    box.toLookUp = [];
    const applied = this.keys.applied(box.id);
    const recorded = this.#connection.commands.sendCommand(["HMGET", applied, ...batch.map(({ message }) => message.meta.id)]);
    const generation = box.generation;
    box.arrivals = box.arrivals.then(async () => {
      // Redis unreachable: delivered at least once, as on any mailbox.
      const answers = await recorded.catch(() => null);
      for (let i = 0; i < batch.length; i++) {
        const { entryId, message, again, replay } = batch[i]!;
        let answer = Array.isArray(answers) ? answers[i] : null;
        // A copy of a message still at work here: looked up again once that one is done.
        const earlier = box.working.get(message.meta.id);
        if (typeof answer !== "string" && earlier) {
          await earlier.done;
          answer = await this.#connection.commands.sendCommand(["HGET", applied, message.meta.id]).catch(() => null);
        }
        if (box.released || box.generation !== generation) return;
        // Applied here, though Redis does not say so: it lost the write (a failover, a restart without its data).
        if (typeof answer !== "string") answer = box.appliedHere.get(message.meta.id) ?? null;
        if (typeof answer !== "string") {
          let settle = () => {};
          const done = new Promise<void>((resolve) => (settle = resolve));
          box.working.set(message.meta.id, { done, settle });
          this.#deliver(box, entryId, message, again);
          continue;
        }
        box.pending.delete(entryId);
        this.#ack(box, entryId);
        if (replay && answer !== "") this.#replay(box, message, answer);
      }
    });
  }

  /** Sends again the answer a durable agent gave to `message` the first time, checked as anything read from Redis is. */
  #replay(box: Mailbox, message: Message, answer: string): void {
    try {
      const value: unknown = JSON.parse(answer);
      validateIncoming(value);
      if (value.from !== box.id || value.to !== message.from || value.meta.parent_id !== message.meta.id || !isAnswer(value)) {
        throw new MessageValidationError("it is not an answer of this agent to this message");
      }
      this.publish(value);
    } catch (error) {
      this.emit("error", new MessageValidationError(`the answer recorded for message ${message.meta.id} to "${box.id}" was dropped: ${(error as Error).message}`));
    }
  }

  #deliver(box: Mailbox, entryId: string, message: Message, again: boolean): void {
    box.pending.set(entryId, message);
    const generation = box.generation;
    try {
      box.deliver(message, () => this.#done(box, entryId, generation), again);
    } catch (error) {
      this.#done(box, entryId, generation);
      this.emit("error", new Error(`delivering message ${message.meta.id} to "${box.id}" threw`, { cause: error }));
    }
  }

  #done(box: Mailbox, entryId: string, generation: number): void {
    if (box.generation !== generation || !box.finished(entryId)) return;
    this.#ack(box, entryId);
    this.#roomAgain(box);
  }

  /** A mailbox left out of the read for want of room is read again once half its window is free. */
  #roomAgain(box: Mailbox): void {
    if (box.throttled && box.pending.size <= box.window / 2) {
      box.throttled = false;
      this.#reader.wake();
    }
  }

  #acked(key: string, entryId: string): boolean {
    return this.#acks.get(key)?.has(entryId) === true || this.#acksInFlight.get(key)?.has(entryId) === true;
  }

  #ack(box: Mailbox, entryId: string): void {
    let ids = this.#acks.get(box.key);
    if (!ids) this.#acks.set(box.key, (ids = new Set()));
    ids.add(entryId);
    if (this.#ackScheduled) return;
    this.#ackScheduled = true;
    setImmediate(() => {
      this.#ackScheduled = false;
      this.#flushAcks().catch(() => {});
    });
  }

  /**
   * Acknowledges and deletes, per stream, the entries whose actions answered:
   * the stream keeps only what waits or is being worked on, so its length is
   * the mailbox's fill. Acks lost with the connection are sent again on reconnect.
   */
  async #flushAcks(): Promise<void> {
    if (this.#acks.size === 0 || !this.#connection.connected) return;
    const batch = this.#acks;
    this.#acks = new Map();
    await Promise.all(
      [...batch].map(async ([key, ids]) => {
        this.#acksInFlight.set(key, ids);
        const list = [...ids];
        try {
          await Promise.all([
            this.#connection.commands.sendCommand(["XACK", key, Keys.GROUP, ...list]),
            this.#connection.commands.sendCommand(["XDEL", key, ...list]),
          ]);
        } catch (error) {
          if (isReplyError(error)) {
            this.emit("error", new Error(`acknowledging ${list.length} entries of ${key} failed: ${(error as Error).message}`, { cause: error }));
          } else {
            let again = this.#acks.get(key);
            if (!again) this.#acks.set(key, (again = new Set()));
            for (const id of list) again.add(id);
          }
        } finally {
          if (this.#acksInFlight.get(key) === ids) this.#acksInFlight.delete(key);
        }
      }),
    );
  }

  async #renew(): Promise<void> {
    if (!this.#connection.connected || this.#closing) return;
    await this.#direct?.renew().catch(() => {}); // lost the connection: renewed once it is back
    if (this.#byId.size === 0) return;
    const ids = [...this.#byId.keys()];
    try {
      const lost = await RENEW.run(this.#connection.commands, [this.keys.prefix, this.token, String(this.#tuning.leaseMs), ...ids]);
      if (Array.isArray(lost)) {
        for (const id of lost) {
          const box = this.#byId.get(String(id));
          if (box) this.#lose(box, "another process took it after this one's lease ran out");
        }
      }
    } catch {
      // Lost the connection: renewed again once it is back (see #recover).
    }
  }

  async #measure(): Promise<void> {
    if (this.#byId.size === 0 || !this.#connection.connected) return;
    await Promise.all(
      [...this.#byId.values()].map(async (box) => {
        const length = await this.#connection.commands.sendCommand(["XLEN", box.key]).catch(() => undefined);
        if (typeof length === "number") box.length = length;
      }),
    );
  }

  /** Back after a loss: every id taken again, held messages and acks sent, the reader woken. */
  async #recover(): Promise<void> {
    while (!this.#closing && this.#connection.connected) {
      try {
        // A Redis that came back without its data has forgotten the kinds, and their streams' groups.
        for (const queue of [...this.#serving.values()]) {
          await this.#register(queue.kind).catch((error: unknown) => {
            if (!(error instanceof TypeError)) throw error;
            this.emit("error", error); // registered otherwise meanwhile: said, and the rest recovers
          });
        }
        for (const box of [...this.#byId.values()]) await this.#reacquire(box);
        await this.#flushAcks();
      } catch (error) {
        if (!this.#connection.connected) return; // lost again: the next reconnect recovers
        if (!isPassingRefusal(error)) {
          this.emit("error", new RedisConnectionError(`recovering after a reconnect failed: ${(error as Error).message}; trying again`, { cause: error }));
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.#outbox.resume();
      this.#reader.wake();
      this.emit("connected");
      return;
    }
  }
}
