import type { Manager } from "../nodes/manager.js";
import { spaceLinks } from "../nodes/space-link.js";
import type { Space } from "../space.js";

/** What `/api/nodes` answers: the namespace's nodes and their agents, or null for a space without nodes (not on Redis). */
export interface NodesAnswer {
  nodes: Awaited<ReturnType<Manager["nodes"]>> | null;
  events: Awaited<ReturnType<Manager["events"]>>;
}

/**
 * Lists the nodes of a RedisSpace's namespace for the page, through a
 * manager that only looks (re-placing is left to the nodes): made on the
 * first ask, closed with the space.
 */
export class NodesView {
  readonly #space: Space;
  #manager: Promise<Manager> | undefined;

  constructor(space: Space) {
    this.#space = space;
  }

  async answer(): Promise<NodesAnswer> {
    if (!spaceLinks.has(this.#space)) return { nodes: null, events: [] };
    this.#manager ??= import("../nodes/manager.js").then(({ Manager }) => new Manager(this.#space, { recover: false }));
    const manager = await this.#manager;
    const [nodes, events] = await Promise.all([manager.nodes(), manager.events(20)]);
    return { nodes, events };
  }

  async close(): Promise<void> {
    await (await this.#manager?.catch(() => undefined))?.close();
  }
}
