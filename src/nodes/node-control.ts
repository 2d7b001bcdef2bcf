import { Agent } from "../agent.js";
import { action } from "../action.js";
import type { Launched } from "./ask-node.js";

/** What the control agent hands its requests to: the node. */
export interface ControlTarget {
  launch(id: unknown, token: unknown): Promise<Launched>;
  remove(id: unknown, token: unknown): Promise<void>;
}

/**
 * The agent through which a node takes requests: it runs in the node's main
 * thread, and its mailbox is a Redis stream like any agent's, so a request
 * sent to a node waits there and is not lost. Its arguments come from
 * anyone who can send into the namespace: the node checks them.
 */
export class NodeControl extends Agent {
  readonly #target: ControlTarget;

  constructor(id: string, target: ControlTarget) {
    super(id);
    this.#target = target;
  }

  @action({ help: "Starts agent `id`, placed on this node in Redis (by a manager or a recovery)" })
  launch(args: { id?: unknown; token?: unknown }): Promise<Launched> {
    return this.#target.launch(args?.id, args?.token);
  }

  @action({ help: "Removes agent `id` from this node for good: its mailbox ends" })
  remove(args: { id?: unknown; token?: unknown }): Promise<void> {
    return this.#target.remove(args?.id, args?.token);
  }
}
