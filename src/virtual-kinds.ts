import type { AgentClass } from "./agent-class.js";
import { agentIdProblem } from "./message.js";

/** `space.virtual`'s settings for one kind of agent. */
export interface VirtualOptions {
  /** Every id that starts with it is an agent of this kind, activated by its first message. */
  prefix: string;
  /** With no message for this long, an instance passivates (its state written first when durable); default 60 s. */
  idleMs?: number;
}

export interface VirtualKind {
  Cls: AgentClass;
  prefix: string;
  idleMs: number;
  /** Instances of this kind started in this space so far. */
  activations: number;
  /** Instances of this kind that passivated in this space so far. */
  passivations: number;
}

/** Per class of virtual agent, in one space: `space.virtualStats()`. */
export interface VirtualStats {
  /** Instances running now. */
  active: number;
  /** Instances started so far (first messages to inactive ids). */
  activations: number;
  /** Instances that passivated so far (idle for their kind's idleMs). */
  passivations: number;
}

export const DEFAULT_IDLE_MS = 60_000;

/** The kinds of virtual agent a space knows, by id prefix: no two prefixes overlap, so an id names one kind at most. */
export class VirtualKinds {
  readonly #kinds: VirtualKind[] = [];

  get size(): number {
    return this.#kinds.length;
  }

  /** The shortest idle time of any kind: how often idleness is looked at. */
  get shortestIdleMs(): number {
    return Math.min(...this.#kinds.map((kind) => kind.idleMs));
  }

  register(Cls: AgentClass, options: VirtualOptions): VirtualKind {
    const { prefix } = options;
    const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    if (typeof prefix !== "string" || prefix.length === 0) throw new TypeError(`virtual ${Cls.name} needs a prefix: the start its ids share, as in { prefix: "acct:" }`);
    const problem = agentIdProblem(`${prefix}x`);
    if (problem) throw new TypeError(`the prefix "${prefix}" cannot start an agent id: ${problem}`);
    if (!(Number.isFinite(idleMs) && idleMs > 0)) throw new RangeError(`idleMs must be a number of milliseconds above 0, not ${String(options.idleMs)}`);
    const clash = this.#kinds.find((kind) => kind.prefix.startsWith(prefix) || prefix.startsWith(kind.prefix));
    if (clash) throw new TypeError(`the prefix "${prefix}" overlaps "${clash.prefix}" (${clash.Cls.name}): an id must name one kind of virtual agent`);
    const kind = { Cls, prefix, idleMs, activations: 0, passivations: 0 };
    this.#kinds.push(kind);
    return kind;
  }

  /** Activations and passivations so far by class name (kinds of one class summed), with the instances `active` now (by kind). */
  stats(active: Iterable<VirtualKind>): Record<string, VirtualStats> {
    const stats: Record<string, VirtualStats> = {};
    const of = (kind: VirtualKind) => (stats[kind.Cls.name] ??= { active: 0, activations: 0, passivations: 0 });
    for (const kind of this.#kinds) {
      const row = of(kind);
      row.activations += kind.activations;
      row.passivations += kind.passivations;
    }
    for (const kind of active) of(kind).active++;
    return stats;
  }

  /** The kind whose prefix `id` starts with, if any. */
  kindOf(id: string): VirtualKind | undefined {
    for (const kind of this.#kinds) if (id.startsWith(kind.prefix)) return kind;
    return undefined;
  }
}
