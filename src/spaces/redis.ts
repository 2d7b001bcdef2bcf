import { isDurable, type AgentClass } from "../agent-class.js";
import type { MailboxOptions } from "../host/mailbox.js";
import type { AgentStats } from "../stats.js";
import type { Member } from "../supervisor.js";
import { RedisTransport, type DirectOptions, type RedisConnectionOptions, type RedisTuning } from "../redis/index.js";
import type { AddOptions, RemoveOptions } from "../space.js";
import type { VirtualKind } from "../virtual-kinds.js";
import type { BrokerRouter } from "./broker-router.js";
import { Manager, type ManagerOptions } from "../nodes/manager.js";
import { spaceLinks } from "../nodes/space-link.js";
import { MultiprocessSpace, type MultiprocessSpaceOptions } from "./multiprocess.js";

export interface RedisSpaceOptions extends MultiprocessSpaceOptions {
  /** The server, as node-redis takes it (url, socket with TLS, username, password, database); the url defaults to REDIS_URL, else redis://127.0.0.1:6379. */
  redis?: RedisConnectionOptions;
  /** Processes naming the same namespace on the same Redis form one space (default "agentspace"). */
  namespace?: string;
  /** Lease, prefetch, reconnection and buffer settings; none changes what is stored. */
  tuning?: RedisTuning;
  /**
   * The hybrid path: this process listens on one TCP port (`port`, default
   * any free one, on `host`, default 127.0.0.1; `advertise` is the address
   * others should use) and messages between live processes go straight over
   * TCP (TLS with `tls`), acknowledged, falling back to Redis when a peer is
   * unreachable or dies. Off by default.
   */
  direct?: boolean | DirectOptions;
}

export interface RedisDestroyOptions {
  /**
   * Leave the mailboxes of this process's agents open in Redis (for a
   * rolling restart): messages sent meanwhile wait, and what was taken and
   * not answered is delivered again to the next `add` of each id, in any process.
   */
  keepMailboxes?: boolean;
}

export interface RedisRemoveOptions extends RemoveOptions {
  /**
   * Leave the agent's mailbox open, with what waits in it and what it took
   * and did not answer, for the next `add` of its id in any process: a move.
   */
  keepMailbox?: boolean;
}

/**
 * Agents in worker threads, exactly as in MultiprocessSpace, with durable
 * mailboxes on Redis Streams: processes and hosts that name the same
 * namespace form one space, and a mailbox outlives the process of its
 * agent. Delivery is at least once. One command connection and one
 * blocking reader per process.
 */
export class RedisSpace extends MultiprocessSpace {
  protected override readonly carriesJson = true;
  #transport: Promise<RedisTransport>;
  #opened: RedisTransport | undefined;
  /** Mailbox settings of agents being added (for the transport to bound their streams), and whether each is durable. */
  #adding = new Map<string, MailboxOptions & { durable: boolean }>();
  #keepMailboxes = false;
  /** destroy() is under way: its removals passivate virtual agents rather than end them. */
  #destroying = false;
  /** Removals under way that keep their mailboxes (a node moving agents away while it drains). */
  #keptOnRemove = 0;
  readonly #closers = new Set<() => Promise<void>>();
  /**
   * More virtual activations this process may take now (a node sets it to
   * its free capacity); unset, it takes its share of every kind it serves.
   */
  activationRoom: (() => number) | undefined;

  constructor(options: RedisSpaceOptions = {}) {
    if (options.store !== undefined) {
      throw new TypeError("a RedisSpace keeps durable agents' states in Redis, next to their mailboxes: leave out store");
    }
    super(options);
    this.#transport = RedisTransport.open({
      redis: options.redis,
      namespace: options.namespace,
      tuning: options.tuning,
      mailboxOf: (id) => this.#adding.get(id) ?? this.mailbox({}),
      durableOf: (id) => this.#adding.get(id)?.durable ?? false,
      // The transport asks without an id: a plain remove overlapping a keeping one keeps its mailbox too.
      keepMailboxes: () => this.#keepMailboxes || this.#keptOnRemove > 0,
      direct: options.direct,
    });
    this.#transport.then(
      (transport) => (this.#opened = transport),
      () => {}, // reported by the first add, which awaits the same promise
    );
    this.routeThrough(this.#transport, (id, error) => {
      // Another process holds the id now: this one's instance must do nothing more (its mailbox and state are the new holder's).
      this.reportError(error);
      if (this.agents.includes(id)) this.remove(id).catch((cause: Error) => this.reportError(cause));
    });
    spaceLinks.set(this, { redis: options.redis, namespace: options.namespace, tuning: options.tuning, closers: this.#closers });
  }

  /** A Manager of this namespace's nodes: launches agents on them, lists them. Closed by `destroy()`. */
  manager(options?: ManagerOptions): Manager {
    return new Manager(this, options);
  }

  /**
   * As every space's `remove`; `keepMailbox` leaves its mailbox open for the
   * id's next holder: the agent takes nothing more from it, answers what it
   * has taken (for up to the remove timeout), then stops.
   */
  override async remove(id: string, options: RedisRemoveOptions = {}): Promise<void> {
    if (!options.keepMailbox) {
      // Removed for good, as in every space (a passivation or a destroy keeps a virtual agent's mailbox and state).
      if (!this.#destroying) this.#opened?.ending(id);
      return super.remove(id, options);
    }
    this.#keptOnRemove++;
    try {
      const transport = this.#opened;
      transport?.leaving(id);
      // Taken and not yet answered, a message would be refused as the agent stops; answered, it is acknowledged.
      // The transport says nothing when the count falls, so it is looked at every 10 ms.
      const deadline = Date.now() + (options.timeoutMs ?? this.options.removeTimeoutMs);
      while ((transport?.figures(id)?.unacked ?? 0) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      await super.remove(id, options);
    } finally {
      this.#keptOnRemove--;
    }
  }

  /** Resolves once connected; rejects, naming host and port, when Redis cannot be reached. */
  async connected(): Promise<void> {
    await this.#transport;
  }

  /**
   * Removes every agent of this process and closes the connections. The
   * agents' mailboxes are ended too (later sends to their ids are refused)
   * unless `keepMailboxes` is set.
   */
  override destroy(options: RedisDestroyOptions = {}): Promise<void> {
    if (options.keepMailboxes) this.#keepMailboxes = true;
    this.#destroying = true;
    return super.destroy();
  }

  /** Per agent, besides the counts of every space: `waiting` in Redis and `unacked` (taken, not yet answered). */
  override stats(): Record<string, AgentStats> {
    const stats = super.stats();
    const transport = this.#opened;
    if (!transport) return stats;
    for (const [id, agent] of Object.entries(stats)) {
      const figures = transport.figures(id);
      if (!figures) continue;
      agent.waiting = figures.waiting;
      agent.unacked = figures.unacked;
      agent.dropped += figures.malformed;
    }
    return stats;
  }

  /**
   * As every space's `virtual`, namespace-wide: every process (and node)
   * that registers the prefix serves the kind, and exactly one of them
   * activates an id (its lease). Resolves once registered in Redis; rejects
   * when the prefix is another class's there, or overlaps another kind's.
   */
  protected override virtualRefusal(): undefined {
    return undefined;
  }

  protected override serveVirtual(kind: VirtualKind): Promise<void> {
    (this.router as BrokerRouter).outlives = (id) => this.isVirtual(id);
    const { size, policy } = this.mailbox({});
    return this.#transport.then((transport) =>
      transport.serve({
        prefix: kind.prefix,
        className: kind.Cls.name,
        bound: policy === "wait" ? size * 2 : size,
        activate: (id) => this.#activate(transport, id),
        room: () => this.activationRoom?.() ?? Infinity,
      }),
    );
  }

  /** An activation the transport handed this process; one that cannot start ends what waited for it, telling its senders why. */
  async #activate(transport: RedisTransport, id: string): Promise<void> {
    try {
      await this.activateHere(id);
    } catch (error) {
      const why = new Error(`virtual agent "${id}" could not be activated: ${(error as Error).message}`, { cause: error });
      await transport.refuseActivation(id, why).catch(() => {});
      throw why;
    }
  }

  protected override backlog(id: string): number {
    const figures = this.#opened?.figures(id);
    return figures ? figures.waiting + figures.unacked : 0;
  }

  protected override passivating(id: string): void {
    this.#opened?.leaving(id);
  }

  /** States live in Redis next to the mailboxes: the main thread writes them with the acknowledgements. */
  protected override stateKeeping(): "up" {
    return "up";
  }

  protected override keptState(id: string): string | undefined {
    return this.#opened?.stateOf(id);
  }

  protected override async spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member> {
    this.#adding.set(id, { ...this.mailbox(options), durable: isDurable(Cls) });
    try {
      return await super.spawn(Cls, id, init, options);
    } finally {
      this.#adding.delete(id);
    }
  }

  protected override async release(): Promise<void> {
    await Promise.allSettled([...this.#closers].map((close) => close()));
    const transport = await this.#transport.catch(() => undefined);
    await transport?.close();
  }
}
