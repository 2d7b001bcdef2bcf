import type { Directory, Spot } from "./directory.js";
import type { NodeEvent } from "./events.js";

/** What a recovery needs from the process it runs in (a node or a manager). */
export interface RecoveryHost {
  directory: Directory;
  /** This process's token: who holds a claim. */
  claimer: string;
  /** Starts agent `id` at `spot`; rejects when it could not. */
  launch(spot: Spot, id: string): Promise<void>;
  /** Ends the mailbox of an agent that is not restarted, answering what waited in it. */
  endMailbox(id: string, why: string): Promise<void>;
  /** Said on stderr, or wherever the process says things. */
  log(line: string): void;
}

/**
 * Watches for node runs whose lease ran out, and re-places their agents.
 * Every node and every manager runs one, so a dead node's agents move even
 * when no manager is running: the first to see the expired lease claims its
 * recovery with one atomic Redis step (CLAIM_RECOVERY), the others skip it.
 * A claimer that dies itself loses its claim after `claimTtlMs`, and another takes over.
 */
export class Recovery {
  readonly #host: RecoveryHost;
  readonly #claimTtlMs: number;
  #timer: NodeJS.Timeout | undefined;
  #looking: Promise<void> | undefined;

  constructor(host: RecoveryHost, claimTtlMs: number) {
    this.#host = host;
    this.#claimTtlMs = claimTtlMs;
  }

  start(everyMs: number): void {
    this.#timer ??= setInterval(() => void this.look(), everyMs).unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#looking;
  }

  /** One look over every node run; at most one at a time. */
  look(): Promise<void> {
    this.#looking ??= this.#lookOnce()
      .catch(() => {}) // Redis away: the next look tries again
      .finally(() => (this.#looking = undefined));
    return this.#looking;
  }

  async #lookOnce(): Promise<void> {
    const { directory, claimer } = this.#host;
    for (const token of await directory.runs()) {
      const claimed = await directory.claim(token, claimer, this.#claimTtlMs);
      if (!claimed) continue;
      try {
        if (claimed.ids.length > 0) await this.#record({ kind: "node-down", node: claimed.name, detail: `${claimed.ids.length} agents to re-place` });
        await Promise.all(claimed.ids.map((id) => this.#recover(token, claimed.name, id)));
      } finally {
        await directory.endRecovery(token, claimer);
      }
    }
  }

  async #recover(dead: string, node: string, id: string): Promise<void> {
    const { directory } = this.#host;
    const spec = await directory.spec(id);
    if (typeof spec === "string" || spec.restart === "never") {
      const why = typeof spec === "string" ? `its launch spec in Redis is unreadable (${spec})` : `its node "${node}" died and its restart policy is "never"`;
      if (await directory.unplace(id, dead)) {
        await this.#host.endMailbox(id, why);
        await this.#record({ kind: "agent-removed", node, id, detail: why });
      }
      return;
    }
    const spot = await directory.move(id, spec.className, dead);
    if (spot === "moved" || spot === "placed") return; // someone else moved it
    if (typeof spot === "string") {
      const why = spot === "full" ? "no live node offering it has room" : `no live node offers class ${spec.className}`;
      return this.#record({ kind: "agent-waiting", node, id, detail: `${why}; its mailbox waits, and it is tried again` });
    }
    try {
      await this.#host.launch(spot, id);
      await this.#record({ kind: "agent-moved", node, id, to: spot.name });
    } catch (error) {
      // The target unplaced it if the agent itself failed to start; if the target died, its own recovery retries.
      const kind = (await directory.placedOn(id)) === undefined ? "agent-removed" : "agent-waiting";
      await this.#record({ kind, node, id, to: spot.name, detail: `launching it on "${spot.name}" failed: ${(error as Error).message}` });
    }
  }

  async #record(event: Omit<NodeEvent, "at">): Promise<void> {
    const full = { at: Date.now(), ...event };
    this.#host.log(`${full.kind} ${full.node}${full.id ? ` ${full.id}` : ""}${full.to ? ` -> ${full.to}` : ""}${full.detail ? `: ${full.detail}` : ""}`);
    await this.#host.directory.record(full).catch(() => {});
  }
}
