import type { AgentStats } from "../stats.js";
import type { InspectedSpace } from "./types.js";

/** One row of the page's Agents table. */
export interface AgentRow {
  id: string;
  className: string;
  /** "main thread", or "thread N" (numbered by this inspector, in order of first sight). */
  thread: string;
  /** Other agents of this space in the same worker thread. */
  mates: number;
  state: "running" | "restarting" | "stopping" | "crashed" | "removed";
  restarts: number;
  mailboxDepth: number;
  /** Messages in the waiting room (mailboxPolicy "wait"), when the stats say. */
  waiting?: number;
  received: number;
  sent: number;
  errors: number;
  dropped: number;
  /** Messages received and sent per second, since the previous reading. */
  rate: number;
  /** The agent's loops, when the stats say. */
  loops?: number | string;
}

// Departed agents stay in the table a while, so that a crash can be seen after the fact.
const DEPARTED_KEPT = 200;
const DEPARTED_FOR_MS = 5 * 60_000;

/**
 * Reads the space's stats and descriptions into table rows, with each
 * agent's message rate since the last reading; remembers the last rows of
 * agents that left, marked removed or crashed.
 */
export class AgentRows {
  #inspected: InspectedSpace;
  #threads = new WeakMap<object, number>();
  #nextThread = 1;
  #totals = new Map<string, number>();
  #readAt = 0;
  #last = new Map<string, AgentRow>();
  #departed = new Map<string, { row: AgentRow; at: number }>();

  constructor(inspected: InspectedSpace) {
    this.#inspected = inspected;
  }

  /** The agent left: `crashed` when its crash removed it, else removed. */
  departed(id: string, crashed: boolean): void {
    const row = this.#last.get(id);
    if (!row) return;
    this.#departed.delete(id);
    this.#departed.set(id, { row: { ...row, state: crashed ? "crashed" : "removed", rate: 0, mailboxDepth: 0 }, at: Date.now() });
    if (this.#departed.size > DEPARTED_KEPT) this.#departed.delete(this.#departed.keys().next().value as string);
  }

  /** Every agent of this process, then those that left lately. */
  read(): AgentRow[] {
    const now = Date.now();
    const seconds = this.#readAt === 0 ? 0 : (now - this.#readAt) / 1000;
    this.#readAt = now;
    const stats = this.#inspected.space.stats();
    const described = this.#inspected.describe();
    const mates = new Map<object, number>();
    for (const { thread } of described) if (thread) mates.set(thread, (mates.get(thread) ?? 0) + 1);
    const rows: AgentRow[] = [];
    const totals = new Map<string, number>();
    const last = new Map<string, AgentRow>();
    for (const { id, className, thread, state } of described) {
      const agentStats = stats[id];
      if (!agentStats) continue;
      const total = agentStats.received + agentStats.sent;
      totals.set(id, total);
      const before = this.#totals.get(id);
      const rate = seconds > 0 && before !== undefined ? Math.max(0, (total - before) / seconds) : 0;
      const row: AgentRow = {
        id,
        className,
        thread: thread ? `thread ${this.#threadNumber(thread)}` : "main thread",
        mates: thread ? (mates.get(thread) ?? 1) - 1 : 0,
        state,
        restarts: agentStats.restarts,
        mailboxDepth: agentStats.mailboxDepth,
        received: agentStats.received,
        sent: agentStats.sent,
        errors: agentStats.errors,
        dropped: agentStats.dropped,
        rate: Math.round(rate * 10) / 10,
        ...optional(agentStats),
      };
      rows.push(row);
      last.set(id, row);
      this.#departed.delete(id); // back under the same id
    }
    this.#totals = totals;
    this.#last = last;
    for (const [id, { row, at }] of this.#departed) {
      if (now - at > DEPARTED_FOR_MS) this.#departed.delete(id);
      else rows.push(row);
    }
    return rows;
  }

  /** The row last read for `id`, whether it runs or left lately. */
  row(id: string): AgentRow | undefined {
    return this.#last.get(id) ?? this.#departed.get(id)?.row;
  }

  #threadNumber(thread: object): number {
    let number = this.#threads.get(thread);
    if (number === undefined) this.#threads.set(thread, (number = this.#nextThread++));
    return number;
  }
}

/** Fields some versions of the stats carry: shown when present, never required. */
function optional(stats: AgentStats): Pick<AgentRow, "waiting" | "loops"> {
  const extra = stats as unknown as { waiting?: unknown; loops?: unknown };
  const found: Pick<AgentRow, "waiting" | "loops"> = {};
  if (typeof extra.waiting === "number") found.waiting = extra.waiting;
  const loops = extra.loops;
  if (typeof loops === "number") found.loops = loops;
  else if (Array.isArray(loops)) found.loops = loops.length;
  else if (typeof loops === "string") found.loops = loops.slice(0, 80);
  else if (typeof loops === "object" && loops !== null) found.loops = Object.keys(loops).length;
  return found;
}
