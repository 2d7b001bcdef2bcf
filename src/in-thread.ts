import type { Agent } from "./agent.js";
import { ATTACH, DELIVER, DETACH, PEER_GONE, type AgentLink, type LinkedAgent } from "./agent-link.js";
import type { MessageRouter } from "./router.js";

/** An agent in the space, seen from the space: how to take it out again. */
export interface Member {
  /** Runs `beforeRemove`, takes the agent out of the router and releases what it holds. */
  stop(reason: Error): Promise<void>;
}

export type LinkOptions = Omit<AgentLink, "post">;

/**
 * Puts an agent in the calling thread into the router: its messages go
 * straight into its mailbox, never cloned. Rejects, leaving nothing behind,
 * if the constructor or `afterAdd` throws.
 */
export async function hostInThread<A extends Agent>(
  router: MessageRouter,
  create: () => A,
  link: LinkOptions,
): Promise<{ agent: A; member: Member }> {
  const agent = create();
  const linked = agent as unknown as LinkedAgent;
  linked[ATTACH]({ ...link, post: (message) => router.route(message) });
  await router.add(agent.id, {
    deliver: (message) => linked[DELIVER](message),
    peerGone: (peerId, reason) => linked[PEER_GONE](peerId, reason),
  });
  try {
    await agent.afterAdd();
  } catch (error) {
    await router.delete(agent.id, error as Error);
    linked[DETACH](error as Error);
    throw error;
  }
  const member: Member = {
    async stop(reason) {
      try {
        await agent.beforeRemove();
      } catch (error) {
        link.reportError(error);
      }
      await router.delete(agent.id, reason);
      linked[DETACH](reason);
    },
  };
  return { agent, member };
}
