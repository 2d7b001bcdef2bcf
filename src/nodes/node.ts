import { randomBytes } from "node:crypto";
import { availableParallelism, hostname, totalmem } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { AgentNotFoundError, DuplicateAgentError, NodeLeaseError, PlacementError } from "../errors.js";
import { agentIdProblem } from "../message.js";
import { RedisConnection } from "../redis/connection.js";
import { Keys, type DirectOptions, type RedisConnectionOptions, type RedisTuning } from "../redis/index.js";
import { DEFAULT_NAMESPACE, resolveRedisOptions, resolveTuning } from "../redis/options.js";
import type { AgentClass } from "../agent-class.js";
import { RedisSpace } from "../spaces/redis.js";
import { askToLaunch, type Launched } from "./ask-node.js";
import { controlIdOf, nodeNameProblem, type NodeDescription } from "./description.js";
import { Directory, type Spot } from "./directory.js";
import { endMailbox } from "./end-mailbox.js";
import type { NodeEvent } from "./events.js";
import { NodeControl } from "./node-control.js";
import { Recovery } from "./recovery.js";

export interface NodeOptions {
  /** The node's name in its namespace: a manager pins agents to it by this name. */
  name: string;
  /** The agent classes it offers, by class name. */
  classes: ReadonlyMap<string, AgentClass>;
  /** Agents it hosts at most (default 64). */
  capacity?: number;
  redis?: RedisConnectionOptions;
  namespace?: string;
  /** The node's lease (`leaseMs`) is its agents' lease: a node that dies is seen as dead once it runs out. */
  tuning?: RedisTuning;
  /** Worker threads its agents share; unset: one thread per agent. */
  threads?: number | "auto";
  /** Talk straight to other processes over TCP, as `RedisSpace`'s `direct` (off by default). */
  direct?: boolean | DirectOptions;
  /** How long a launch on another node (draining, or re-placing a dead node's agents) may take (default 30 s). */
  launchTimeoutMs?: number;
  /** A module each of its worker threads imports before any agent, to register an OpenTelemetry SDK (see SpaceOptions.telemetry). */
  telemetry?: string | URL;
  /** Kinds of virtual agent it serves: its share of their activations, within its capacity (see RedisSpace's `virtual`). */
  virtual?: ReadonlyArray<VirtualServing>;
  /** Where the node says what it does (default: stdout). */
  log?: (line: string) => void;
}

/** A virtual kind a node serves: ids starting with `prefix` are agents of its class `className`. */
export interface VirtualServing {
  className: string;
  prefix: string;
  idleMs?: number;
}

export const nodeDefaults: Required<Pick<NodeOptions, "capacity" | "launchTimeoutMs">> = { capacity: 64, launchTimeoutMs: 30_000 };

/**
 * The process side of a node: it hosts the agents a manager (or a recovery)
 * places on it, in a RedisSpace of its own, and advertises itself in Redis
 * with a lease renewed every third of `leaseMs`. Each run of a node has a
 * token of its own, so a node restarted under the same name is a new run:
 * the agents of the old one are re-placed like any dead node's.
 */
export class AgentNode {
  readonly name: string;
  readonly token: string;
  readonly space: RedisSpace;
  /** Settles once the node has stopped: drained, or lost its lease (then it rejects). */
  readonly stopped: Promise<void>;
  readonly #options: NodeOptions & Required<Pick<NodeOptions, "capacity" | "launchTimeoutMs">>;
  readonly #connection: RedisConnection;
  readonly #directory: Directory;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #description: NodeDescription;
  readonly #recovery: Recovery;
  /** Agents running here that this node placed and answers for; one that leaves otherwise is unplaced. */
  readonly #hosted = new Set<string>();
  readonly #starting = new Map<string, Promise<Launched>>();
  #renewal: NodeJS.Timeout | undefined;
  #draining = false;
  #stopping: Promise<void> | undefined;
  #settle!: { resolve: () => void; reject: (error: Error) => void };

  private constructor(options: NodeOptions & Required<Pick<NodeOptions, "capacity" | "launchTimeoutMs">>, space: RedisSpace, connection: RedisConnection) {
    this.name = options.name;
    this.token = `${options.name}.${process.pid}.${randomBytes(6).toString("hex")}`;
    this.space = space;
    this.#options = options;
    this.#connection = connection;
    this.#prefix = new Keys(options.namespace ?? DEFAULT_NAMESPACE).prefix;
    this.#directory = new Directory(connection.commands, this.#prefix);
    this.#leaseMs = resolveTuning(options.tuning).leaseMs;
    this.#description = {
      name: options.name,
      host: hostname(),
      pid: process.pid,
      cores: availableParallelism(),
      memory: totalmem(),
      capacity: options.capacity,
      classes: [...options.classes.keys()].sort(),
      startedAt: Date.now(),
    };
    this.stopped = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    this.stopped.catch(() => {}); // said through log; the caller awaits it when it wants to
    this.#recovery = new Recovery(
      {
        directory: this.#directory,
        claimer: this.token,
        launch: (spot, id) => this.#launchElsewhere(spot, id),
        endMailbox: (id, why) => endMailbox(connection.commands, this.#prefix, id, why, this.#leaseMs),
        log: (line) => this.#log(line),
      },
      4 * this.#leaseMs + 10_000,
    );
    space.on("agent:removed", (id) => this.#ended(id));
    // Its capacity holds the agents it was launched with and the virtual ones active here.
    space.activationRoom = () => {
      if (this.#stopping) return 0;
      let active = 0;
      for (const kind of Object.values(space.virtualStats())) active += kind.active;
      return this.#options.capacity - this.#hosted.size - active;
    };
    space.on("error", (error, outcome) => this.#log(`error ${error.name}: ${error.message}${outcome ? `; ${outcome}` : ""}`));
  }

  /** Connects, takes the node's name (waiting while another live run holds it) and starts taking work. */
  static async start(options: NodeOptions): Promise<AgentNode> {
    const problem = nodeNameProblem(options.name);
    if (problem) throw new TypeError(problem);
    const resolved = { ...nodeDefaults, ...options };
    if (!Number.isSafeInteger(resolved.capacity) || resolved.capacity < 1) throw new RangeError(`capacity must be a positive whole number, not ${String(options.capacity)}`);
    if (options.classes.size === 0) throw new TypeError("a node must offer at least one agent class");
    for (const { className } of options.virtual ?? []) {
      if (!options.classes.has(className)) {
        throw new TypeError(`a node serves virtual agents of a class it offers: ${className} is not among ${[...options.classes.keys()].sort().join(", ")}`);
      }
    }
    const space = new RedisSpace({ redis: options.redis, namespace: options.namespace, tuning: options.tuning, threads: options.threads, direct: options.direct, telemetry: options.telemetry });
    let connection: RedisConnection | undefined;
    try {
      await space.connected();
      connection = await RedisConnection.open(resolveRedisOptions(options.redis), resolveTuning(options.tuning));
      const node = new AgentNode(resolved, space, connection);
      await node.#join();
      return node;
    } catch (error) {
      connection?.close();
      await space.destroy();
      throw error;
    }
  }

  /** The agents running here. */
  get hosted(): string[] {
    return [...this.#hosted];
  }

  /**
   * A clean stop (SIGTERM): takes no new agents, moves each of its agents to
   * another node that offers its class (stopped here with its mailbox kept,
   * then started there), then leaves. An agent no node can take stays placed
   * on this run and is re-placed, like a dead node's, once one can.
   */
  drain(): Promise<void> {
    this.#stopping ??= this.#drainAndLeave();
    return this.#stopping;
  }

  async #join(): Promise<void> {
    const control = controlIdOf(this.name);
    const waitMs = Math.max(50, Math.floor(this.#leaseMs / 6));
    let said = false;
    // A live run of this name holds the control agent's id; a dead one's lease runs out within leaseMs.
    for (;;) {
      try {
        await this.space.addForeground(NodeControl, control, {
          launch: (id, token) => this.#launch(id, token),
          remove: (id, token) => this.#remove(id, token),
        });
        break;
      } catch (error) {
        if (!(error instanceof DuplicateAgentError)) throw error;
        if (!said) this.#log(`waiting: node name "${this.name}" is held by a running node (or one that stopped less than ${this.#leaseMs} ms ago)`);
        said = true;
        await sleep(waitMs);
      }
    }
    while (!(await this.#directory.hold(this.#description, this.token, this.#leaseMs, "take"))) await sleep(waitMs);
    for (const { className, prefix, idleMs } of this.#options.virtual ?? []) {
      await this.space.virtual(this.#options.classes.get(className)!, { prefix, ...(idleMs === undefined ? {} : { idleMs }) });
    }
    const every = Math.max(100, Math.floor(this.#leaseMs / 3));
    this.#renewal = setInterval(() => void this.#renew(), every);
    this.#recovery.start(every);
    void this.#recovery.look();
  }

  async #launch(id: unknown, token: unknown): Promise<Launched> {
    const problem = agentIdProblem(id);
    if (problem) throw new TypeError(problem);
    const agentId = id as string;
    if (token !== this.token) throw new PlacementError(`the launch of "${agentId}" was meant for another run of node "${this.name}"`);
    if (this.#draining) throw new PlacementError(`node "${this.name}" is draining: it takes no new agents`);
    if (this.#hosted.has(agentId)) return { node: this.name }; // asked again (at least once): it runs
    let starting = this.#starting.get(agentId);
    if (!starting) {
      starting = this.#host(agentId).finally(() => this.#starting.delete(agentId));
      this.#starting.set(agentId, starting);
    }
    return starting;
  }

  async #host(id: string): Promise<Launched> {
    if ((await this.#directory.placedOn(id)) !== this.token) throw new PlacementError(`agent "${id}" is not placed on node "${this.name}"`);
    const spec = await this.#directory.spec(id);
    try {
      if (typeof spec === "string") throw new PlacementError(`agent "${id}" has no readable launch spec in Redis: ${spec}`);
      const Cls = this.#options.classes.get(spec.className);
      if (!Cls) throw new PlacementError(`node "${this.name}" does not offer class ${spec.className}`);
      const options = { restart: spec.restart, mailboxSize: spec.mailboxSize, mailboxPolicy: spec.mailboxPolicy };
      // The id's previous holder (a dead node) may keep its lease a little longer than the node's.
      const deadline = Date.now() + 2 * this.#leaseMs + 1_000;
      for (;;) {
        try {
          this.#hosted.add(id);
          await this.space.add(Cls, id, spec.init as never, options);
          return { node: this.name };
        } catch (error) {
          this.#hosted.delete(id);
          if (!(error instanceof DuplicateAgentError) || Date.now() > deadline) throw error;
          await sleep(Math.max(50, Math.floor(this.#leaseMs / 6)));
        }
      }
    } catch (error) {
      await this.#directory.unplace(id, this.token).catch(() => {});
      throw error;
    }
  }

  async #remove(id: unknown, token: unknown): Promise<void> {
    const problem = agentIdProblem(id);
    if (problem) throw new TypeError(problem);
    const agentId = id as string;
    if (token !== this.token || !this.#hosted.has(agentId)) throw new AgentNotFoundError(`agent "${agentId}" does not run on node "${this.name}"`);
    this.#hosted.delete(agentId);
    await this.#directory.unplace(agentId, this.token);
    await this.space.remove(agentId);
  }

  /** An agent left by itself (shutdown, or crashed past its restart policy): it is no longer placed anywhere. */
  #ended(id: string): void {
    if (!this.#hosted.delete(id)) return;
    void this.#directory
      .unplace(id, this.token)
      .then(() => this.#record({ kind: "agent-ended", node: this.name, id, detail: "it stopped on its own" }))
      .catch(() => {});
  }

  async #launchElsewhere(spot: Spot, id: string): Promise<void> {
    await askToLaunch(this.space, spot, id, this.#options.launchTimeoutMs);
  }

  async #renew(): Promise<void> {
    if (this.#stopping && !this.#draining) return;
    let held: boolean;
    try {
      held = await this.#directory.hold(this.#description, this.token, this.#leaseMs, "renew");
    } catch {
      return; // Redis away: renewed again once it is back, or the lease runs out and the agents move
    }
    if (held || this.#stopping) return;
    const error = new NodeLeaseError(`node "${this.name}" lost its lease (it could not renew it for ${this.#leaseMs} ms): its agents are being re-placed elsewhere`);
    this.#log(error.message);
    this.#stopping = this.#leave(true).then(() => this.#settle.reject(error));
  }

  async #drainAndLeave(): Promise<void> {
    this.#draining = true;
    this.#log(`draining: moving ${this.#hosted.size} agents to other nodes`);
    await this.#directory.drain(this.token);
    await Promise.all([...this.#starting.values()].map((starting) => starting.catch(() => {})));
    await Promise.all([...this.#hosted].map((id) => this.#moveAway(id)));
    await this.#leave(false);
    await this.#record({ kind: "node-drained", node: this.name });
    this.#connection.close();
    this.#settle.resolve();
  }

  async #moveAway(id: string): Promise<void> {
    const spec = await this.#directory.spec(id);
    const spot = await this.#directory.move(id, typeof spec === "string" ? "" : spec.className, this.token);
    if (typeof spot === "string") {
      this.#log(`${id} stays placed here: no other live node can take it (${spot}); its mailbox waits for one`);
      return;
    }
    this.#hosted.delete(id);
    await this.space.remove(id, { keepMailbox: true });
    try {
      await this.#launchElsewhere(spot, id);
      await this.#record({ kind: "agent-moved", node: this.name, id, to: spot.name, detail: "drained" });
    } catch (error) {
      await this.#record({ kind: "agent-waiting", node: this.name, id, to: spot.name, detail: `launching it there failed: ${(error as Error).message}` });
    }
  }

  /** Stops everything here, leaving every mailbox open for the agents' next holders. */
  async #leave(lost: boolean): Promise<void> {
    clearInterval(this.#renewal);
    await this.#recovery.stop();
    await this.space.destroy({ keepMailboxes: true });
    if (!lost) await this.#directory.leave(this.name, this.token).catch(() => {});
    if (lost) this.#connection.close();
  }

  async #record(event: Omit<NodeEvent, "at">): Promise<void> {
    await this.#directory.record({ ...event, at: Date.now() }).catch(() => {});
  }

  #log(line: string): void {
    (this.#options.log ?? console.log)(`[node ${this.name}] ${line}`);
  }
}
