import type { RedisCommands, Reply } from "../redis/connection.js";
import { parseDescription, parseSpec, type LaunchSpec, type NodeDescription, type RestartPolicy } from "./description.js";
import { parseEvent, type NodeEvent } from "./events.js";
import { CLAIM_RECOVERY, END_RECOVERY, HOLD_NODE, LEAVE_NODE, PLACE, UNPLACE } from "./node-scripts.js";

/** Where an agent went: the node's name and the token of that run of it. */
export interface Spot {
  token: string;
  name: string;
}

/** Why an agent could not be placed (see PLACE). */
export type PlaceRefusal = "placed" | "moved" | "no-node" | "no-class" | "full";

/** One agent on a node, as `nodes()` lists it. */
export interface PlacedAgent {
  id: string;
  className: string;
  restart: RestartPolicy;
}

/** A node as `manager.nodes()` lists it: what it advertises, whether it is live, and its agents. */
export interface NodeView extends NodeDescription {
  /** The token of this run of the node. */
  token: string;
  /** Its lease is held: false for a run that died and whose agents are still being re-placed. */
  live: boolean;
  /** Handing its agents to other nodes before it exits: takes no new ones. */
  draining: boolean;
  agents: PlacedAgent[];
}

/** A dead run whose recovery this caller now owns. */
export interface ClaimedRun {
  name: string;
  ids: string[];
}

const str = (reply: Reply | undefined): string => (typeof reply === "string" ? reply : "");

/**
 * The nodes of a namespace and where its agents are placed, as kept in
 * Redis (see node-scripts.ts for the layout). Every change is one script,
 * so it holds under any number of managers and nodes.
 */
export class Directory {
  readonly #redis: RedisCommands;
  readonly #prefix: string;

  constructor(redis: RedisCommands, prefix: string) {
    this.#redis = redis;
    this.#prefix = prefix;
  }

  /** Places a new agent (`target` a node's name, or "" for any); its spot, or why not. */
  async place(id: string, spec: LaunchSpec, target: string): Promise<Spot | PlaceRefusal> {
    return this.#placed(await PLACE.run(this.#redis, [this.#prefix, id, spec.className, target, "", JSON.stringify(spec)]));
  }

  /** Moves agent `id` off run `from` to another live node offering its class. */
  async move(id: string, className: string, from: string): Promise<Spot | PlaceRefusal> {
    return this.#placed(await PLACE.run(this.#redis, [this.#prefix, id, className, "", from, ""]));
  }

  async unplace(id: string, token: string): Promise<boolean> {
    return (await UNPLACE.run(this.#redis, [this.#prefix, id, token])) === 1;
  }

  /** The token of the run agent `id` is placed on, if any. */
  async placedOn(id: string): Promise<string | undefined> {
    return str(await this.#redis.sendCommand(["HGET", `${this.#prefix}placed`, id])) || undefined;
  }

  /** How agent `id` is started, or why what Redis holds is not a spec. */
  async spec(id: string): Promise<LaunchSpec | string> {
    return parseSpec(await this.#redis.sendCommand(["HGET", `${this.#prefix}specs`, id]));
  }

  /** Takes ("take") or renews ("renew") a node's name; false when another run holds it, or this one lost it. */
  async hold(description: NodeDescription, token: string, leaseMs: number, mode: "take" | "renew"): Promise<boolean> {
    const args = [this.#prefix, description.name, token, String(leaseMs), JSON.stringify(description), mode];
    return (await HOLD_NODE.run(this.#redis, args)) === 1;
  }

  /** No new agents go to run `token` from now on. */
  async drain(token: string): Promise<void> {
    await this.#redis.sendCommand(["SADD", `${this.#prefix}draining`, token]);
  }

  async leave(name: string, token: string): Promise<void> {
    await LEAVE_NODE.run(this.#redis, [this.#prefix, name, token]);
  }

  /** The ids placed on run `token`. */
  async agentsOf(token: string): Promise<string[]> {
    const reply = await this.#redis.sendCommand(["SMEMBERS", `${this.#prefix}node-agents:${token}`]);
    return Array.isArray(reply) ? reply.map(str) : [];
  }

  /** Every run known: live, draining, or dead with agents still to re-place. */
  async runs(): Promise<string[]> {
    const reply = await this.#redis.sendCommand(["HKEYS", `${this.#prefix}nodes`]);
    return Array.isArray(reply) ? reply.map(str) : [];
  }

  /** Claims the recovery of dead run `token` for `claimer`, for `ttlMs`; undefined when it is live or someone else has it. */
  async claim(token: string, claimer: string, ttlMs: number): Promise<ClaimedRun | undefined> {
    const reply = await CLAIM_RECOVERY.run(this.#redis, [this.#prefix, token, claimer, String(ttlMs)]);
    if (!Array.isArray(reply)) return undefined;
    const [name, ...ids] = reply.map(str);
    return { name: name ?? "", ids };
  }

  /** Ends a recovery; true when the run is gone for good (no agent was left on it). */
  async endRecovery(token: string, claimer: string): Promise<boolean> {
    return (await END_RECOVERY.run(this.#redis, [this.#prefix, token, claimer])) === 1;
  }

  /** Every node run and its agents, live ones first, by name. */
  async list(): Promise<NodeView[]> {
    const reply = await this.#redis.sendCommand(["HGETALL", `${this.#prefix}nodes`]);
    if (!Array.isArray(reply)) return [];
    const views: NodeView[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const token = str(reply[i]);
      const description = parseDescription(reply[i + 1]);
      if (description) views.push(await this.#view(token, description));
    }
    return views.sort((a, b) => Number(b.live) - Number(a.live) || a.name.localeCompare(b.name));
  }

  /** Keeps `event` among the last thousand. */
  async record(event: NodeEvent): Promise<void> {
    await this.#redis.sendCommand(["XADD", `${this.#prefix}node-events`, "MAXLEN", "~", "1000", "*", "e", JSON.stringify(event)]);
  }

  /** The last `count` events, oldest first. */
  async events(count: number): Promise<NodeEvent[]> {
    const reply = await this.#redis.sendCommand(["XREVRANGE", `${this.#prefix}node-events`, "+", "-", "COUNT", String(count)]);
    if (!Array.isArray(reply)) return [];
    const events: NodeEvent[] = [];
    for (const entry of reply) {
      const fields = Array.isArray(entry) ? entry[1] : undefined;
      const event = Array.isArray(fields) && fields[0] === "e" ? parseEvent(fields[1]) : undefined;
      if (event) events.push(event);
    }
    return events.reverse();
  }

  async #view(token: string, description: NodeDescription): Promise<NodeView> {
    const [holder, draining, ids] = await Promise.all([
      this.#redis.sendCommand(["GET", `${this.#prefix}node-lease:${description.name}`]),
      this.#redis.sendCommand(["SISMEMBER", `${this.#prefix}draining`, token]),
      this.agentsOf(token),
    ]);
    const specs = ids.length > 0 ? await this.#redis.sendCommand(["HMGET", `${this.#prefix}specs`, ...ids]) : [];
    const agents = ids.map((id, at): PlacedAgent => {
      const spec = parseSpec(Array.isArray(specs) ? specs[at] : undefined);
      return typeof spec === "string" ? { id, className: "?", restart: "never" } : { id, className: spec.className, restart: spec.restart };
    });
    agents.sort((a, b) => a.id.localeCompare(b.id));
    return { ...description, token, live: holder === token, draining: draining === 1, agents };
  }

  #placed(reply: Reply): Spot | PlaceRefusal {
    if (!Array.isArray(reply)) throw new Error(`unexpected reply from the placement script: ${JSON.stringify(reply)}`);
    const [outcome, token, name] = reply.map(str);
    if (outcome === "ok") return { token: token!, name: name! };
    return outcome as PlaceRefusal;
  }
}
