import type { AgentStats, MailboxOptions } from "../agent-route.js";
import type { Member } from "../in-thread.js";
import { RedisTransport, type RedisConnectionOptions, type RedisTuning } from "../redis/index.js";
import type { AddOptions, AgentClass } from "../space.js";
import { MultiprocessSpace, type MultiprocessSpaceOptions } from "./multiprocess.js";

export interface RedisSpaceOptions extends MultiprocessSpaceOptions {
  /** The server, as node-redis takes it (url, socket with TLS, username, password, database); the url defaults to REDIS_URL, else redis://127.0.0.1:6379. */
  redis?: RedisConnectionOptions;
  /** Processes naming the same namespace on the same Redis form one space (default "agentspace"). */
  namespace?: string;
  /** Lease, prefetch, reconnection and buffer settings; none changes what is stored. */
  tuning?: RedisTuning;
}

export interface RedisDestroyOptions {
  /**
   * Leave the mailboxes of this process's agents open in Redis (for a
   * rolling restart): messages sent meanwhile wait, and what was taken and
   * not answered is delivered again to the next `add` of each id, in any process.
   */
  keepMailboxes?: boolean;
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
  /** Mailbox settings of agents being added, for the transport to bound their streams. */
  #adding = new Map<string, MailboxOptions>();
  #keepMailboxes = false;

  constructor(options: RedisSpaceOptions = {}) {
    super(options);
    this.#transport = RedisTransport.open({
      redis: options.redis,
      namespace: options.namespace,
      tuning: options.tuning,
      mailboxOf: (id) => this.#adding.get(id) ?? this.mailbox({}),
      keepMailboxes: () => this.#keepMailboxes,
    });
    this.#transport.then(
      (transport) => (this.#opened = transport),
      () => {}, // reported by the first add, which awaits the same promise
    );
    this.routeThrough(this.#transport);
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

  protected override async spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member> {
    this.#adding.set(id, this.mailbox(options));
    try {
      return await super.spawn(Cls, id, init, options);
    } finally {
      this.#adding.delete(id);
    }
  }

  protected override async release(): Promise<void> {
    const transport = await this.#transport.catch(() => undefined);
    await transport?.close();
  }
}
