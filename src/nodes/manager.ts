import { randomBytes } from "node:crypto";
import type { MailboxPolicy } from "../host/mailbox.js";
import { AgentNotFoundError, DuplicateAgentError, PlacementError, RequestTimeoutError } from "../errors.js";
import { assertJsonValue } from "../json-value.js";
import { agentIdProblem } from "../message.js";
import { RedisConnection } from "../redis/connection.js";
import { DEFAULT_NAMESPACE, resolveRedisOptions, resolveTuning } from "../redis/options.js";
import { Keys } from "../redis/keys.js";
import type { AgentClass, InitOf } from "../agent-class.js";
import type { Space } from "../space.js";
import { askToLaunch, askToRemove } from "./ask-node.js";
import { nodeNameProblem, restartPolicies, type LaunchSpec, type RestartPolicy } from "./description.js";
import { Directory, type NodeView, type PlaceRefusal } from "./directory.js";
import { endMailbox } from "./end-mailbox.js";
import type { NodeEvent } from "./events.js";
import { Recovery } from "./recovery.js";
import { spaceLinks, type SpaceLink } from "./space-link.js";

export interface LaunchOptions {
  /** `"any"` (the default): the least loaded live node that offers the class and has room; a name: that node. */
  node?: string;
  /**
   * `"on-failure"` and `"always"`: restarted where it runs when it crashes
   * (as in `space.add`), and launched again on another node when its node
   * dies; `"never"` (the default): removed when it crashes or its node dies.
   */
  restart?: RestartPolicy;
  mailboxSize?: number;
  mailboxPolicy?: MailboxPolicy;
  /** How long the node may take to start it (default: the manager's `launchTimeoutMs`). */
  timeoutMs?: number;
}

export interface ManagerOptions {
  /** How long a node may take to start an agent (default 30 s: its first start bundles the module). */
  launchTimeoutMs?: number;
  /** Also watch for dead nodes and re-place their agents from this process, as every node does (default true). */
  recover?: boolean;
}

export const managerDefaults: Required<ManagerOptions> = { launchTimeoutMs: 30_000, recover: true };

/** Where `launch` put an agent. */
export interface LaunchedAgent {
  id: string;
  node: string;
}

interface Opened {
  connection: RedisConnection;
  directory: Directory;
  recovery: Recovery | undefined;
}

/**
 * Launches agents on the nodes of a RedisSpace's namespace
 * (`npx agentspace node …`) and lists them. The agents are then reached as
 * any agent of the space: `space.handle(id)`. The manager keeps no state of
 * its own: placements live in Redis, so any number of managers, in any
 * processes, see the same nodes; and re-placing a dead node's agents is done
 * by whichever live node or manager first claims it there.
 */
export class Manager {
  readonly #space: Space;
  readonly #link: SpaceLink;
  readonly #options: Required<ManagerOptions>;
  readonly #namespace: string;
  readonly #opened: Promise<Opened>;
  #closing: Promise<void> | undefined;
  readonly #closer = () => this.close();

  constructor(space: Space, options: ManagerOptions = {}) {
    const link = spaceLinks.get(space);
    if (!link) throw new TypeError("a Manager works on a RedisSpace: its nodes meet in the space's Redis namespace");
    this.#space = space;
    this.#link = link;
    this.#options = { ...managerDefaults, ...options };
    this.#namespace = link.namespace ?? DEFAULT_NAMESPACE;
    this.#opened = this.#open();
    this.#opened.catch(() => {}); // reported by the first call, which awaits the same promise
    link.closers.add(this.#closer);
  }

  /**
   * Places agent `id` of class `Cls` on a node and starts it there; resolves
   * once it runs. The class goes by its name: the node must offer a class of
   * that name (its modules export it). Rejects at once with PlacementError
   * when no live node of that name exists, none offers the class, or none
   * has room; with DuplicateAgentError when `id` is placed already.
   */
  async launch<C extends AgentClass>(Cls: C, id: string, init?: InitOf<C>, options: LaunchOptions = {}): Promise<LaunchedAgent> {
    const spec = this.#spec(Cls, id, init, options);
    const target = options.node ?? "any";
    if (target !== "any") {
      const problem = nodeNameProblem(target);
      if (problem) throw new TypeError(problem);
    }
    const { directory } = await this.#opened;
    const spot = await directory.place(id, spec, target === "any" ? "" : target);
    if (typeof spot === "string") throw await this.#refusal(spot, id, spec.className, target);
    const timeoutMs = options.timeoutMs ?? this.#options.launchTimeoutMs;
    try {
      await askToLaunch(this.#space, spot, id, timeoutMs);
    } catch (error) {
      if (error instanceof RequestTimeoutError) {
        throw new RequestTimeoutError(`node "${spot.name}" did not start "${id}" within ${timeoutMs} ms; it stays placed there and may yet start`, { cause: error });
      }
      await directory.unplace(id, spot.token).catch(() => {});
      throw error;
    }
    return { id, node: spot.name };
  }

  /**
   * Removes agent `id` for good from the node it runs on: its mailbox ends,
   * and what waits in it is answered with AgentNotFoundError. Rejects with
   * AgentNotFoundError when no agent of that id is placed on a node.
   */
  async remove(id: string, options: { timeoutMs?: number } = {}): Promise<void> {
    const problem = agentIdProblem(id);
    if (problem) throw new TypeError(problem);
    const { connection, directory } = await this.#opened;
    const node = (await directory.list()).find((view) => view.agents.some((agent) => agent.id === id));
    if (!node) throw new AgentNotFoundError(`no agent "${id}" is placed on a node in namespace "${this.#namespace}"`);
    if (node.live) return askToRemove(this.#space, node, id, options.timeoutMs ?? this.#options.launchTimeoutMs);
    // Its node died and it waits to be re-placed: nobody runs it, so it is ended here.
    if (await directory.unplace(id, node.token)) {
      await endMailbox(connection.commands, new Keys(this.#namespace).prefix, id, "removed by a manager", resolveTuning(this.#link.tuning).leaseMs);
    }
  }

  /** Every node (live ones first; a dead one while its agents are re-placed) with its agents. */
  async nodes(): Promise<NodeView[]> {
    return (await this.#opened).directory.list();
  }

  /** The last `count` things nodes did on their own: deaths, moves, agents removed. */
  async events(count = 100): Promise<NodeEvent[]> {
    return (await this.#opened).directory.events(count);
  }

  /** Stops watching and closes the manager's connection; `space.destroy()` does it too. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#link.closers.delete(this.#closer);
      const opened = await this.#opened.catch(() => undefined);
      await opened?.recovery?.stop();
      opened?.connection.close();
    })();
    return this.#closing;
  }

  async #open(): Promise<Opened> {
    const connection = await RedisConnection.open(resolveRedisOptions(this.#link.redis), resolveTuning(this.#link.tuning));
    const prefix = new Keys(this.#namespace).prefix;
    const directory = new Directory(connection.commands, prefix);
    if (!this.#options.recover) return { connection, directory, recovery: undefined };
    const leaseMs = resolveTuning(this.#link.tuning).leaseMs;
    const recovery = new Recovery(
      {
        directory,
        claimer: `manager.${process.pid}.${randomBytes(6).toString("hex")}`,
        launch: async (spot, id) => void (await askToLaunch(this.#space, spot, id, this.#options.launchTimeoutMs)),
        endMailbox: (id, why) => endMailbox(connection.commands, prefix, id, why, leaseMs),
        log: () => {}, // kept in Redis: manager.events()
      },
      4 * leaseMs + 10_000,
    );
    recovery.start(Math.max(100, Math.floor(leaseMs / 3)));
    return { connection, directory, recovery };
  }

  #spec(Cls: AgentClass, id: string, init: unknown, options: LaunchOptions): LaunchSpec {
    const problem = agentIdProblem(id);
    if (problem) throw new TypeError(problem);
    if (typeof Cls !== "function" || !Cls.name) throw new TypeError("launch needs an agent class with a name: nodes offer classes by name");
    const restart = options.restart ?? "never";
    if (!restartPolicies.includes(restart)) throw new TypeError(`restart must be one of ${restartPolicies.join(", ")}, not ${String(restart)}`);
    if (init !== undefined) assertJsonValue(init, "init");
    const spec: LaunchSpec = { className: Cls.name, init, restart };
    if (options.mailboxSize !== undefined) spec.mailboxSize = options.mailboxSize;
    if (options.mailboxPolicy !== undefined) spec.mailboxPolicy = options.mailboxPolicy;
    return spec;
  }

  /** The error for a refused placement, saying what the live nodes offer and hold. */
  async #refusal(refusal: PlaceRefusal, id: string, className: string, target: string): Promise<Error> {
    const live = (await this.nodes()).filter((node) => node.live && !node.draining);
    const where = `namespace "${this.#namespace}"`;
    const offering = live.filter((node) => node.classes.includes(className));
    switch (refusal) {
      case "placed":
      case "moved": {
        const holder = (await this.nodes()).find((node) => node.agents.some((agent) => agent.id === id));
        return new DuplicateAgentError(`agent "${id}" is already placed${holder ? ` on node "${holder.name}"` : ""} in ${where}`);
      }
      case "no-node":
        return new PlacementError(
          target === "any"
            ? `no live node in ${where}: start one with \`npx agentspace node <module…> --namespace ${this.#namespace}\``
            : `no live node "${target}" in ${where}${live.length ? ` (live: ${live.map((node) => node.name).join(", ")})` : ""}`,
        );
      case "no-class": {
        const offers = live.map((node) => `${node.name}: ${node.classes.join(", ") || "nothing"}`).join("; ");
        const who = target === "any" ? "no live node" : `node "${target}"`;
        return new PlacementError(`${who} in ${where} offers class ${className} (${offers})`);
      }
      case "full": {
        const loads = offering.map((node) => `${node.name} ${node.agents.length}/${node.capacity}`).join(", ");
        const who = target === "any" ? `every live node offering class ${className} is` : `node "${target}" is`;
        return new PlacementError(`${who} full in ${where} (${loads})`);
      }
    }
  }
}
