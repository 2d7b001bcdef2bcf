import type { Agent } from "./agent.js";
import { ATTACH, DELIVER, DETACH, PEER_GONE, WANTS_VALUE, type AgentLink, type LinkedAgent } from "./agent-link.js";
import { AgentRoute, type AgentStats, type MailboxOptions } from "./agent-route.js";
import { answerTo } from "./answer.js";
import type { ComputePool } from "./compute.js";
import { debugRefusal, type DebugMode } from "./debug-gate.js";
import type { Message } from "./message.js";
import type { MessageRouter } from "./router.js";

/** An agent in the space, seen from the space. */
export interface Member {
  /**
   * Runs `beforeRemove`, takes the agent out of the router and releases what
   * it holds. An agent in a worker that does not finish within `timeoutMs`
   * is terminated.
   */
  stop(reason: Error, timeoutMs: number): Promise<void>;
  stats(): AgentStats;
  /** Counts something from its thread that the space dropped as malformed or forged. */
  dropped(): void;
}

export type LinkOptions = Omit<AgentLink, "post" | "taken" | "compute">;


/** A route for `id` whose refusals (a full mailbox) are answered through `router`. */
export function routeFor(router: MessageRouter, id: string, mailbox: MailboxOptions): AgentRoute {
  return new AgentRoute(id, mailbox, (message: Message, error: Error) => router.route(answerTo(message, id, false, error)));
}

/** Where a pool thread finds the agent's class, for its `offload` actions. */
function classModule(agent: Agent): { moduleUrl: string; className: string; bundled: boolean } {
  const Cls = agent.constructor as { name: string; module?: string };
  if (!Object.hasOwn(Cls, "module") || typeof Cls.module !== "string") {
    return { moduleUrl: "", className: Cls.name, bundled: true }; // the pool thread then says the module is missing
  }
  return { moduleUrl: Cls.module, className: Cls.name, bundled: false };
}

/** What every agent of a space that lives in the calling thread shares. */
export interface ThreadContext {
  router: MessageRouter;
  pool: ComputePool;
  /** The space's agents in this thread, by id. */
  neighbours: Map<string, LinkedAgent>;
  /** Who may call the debug actions. */
  debug: DebugMode;
}

export interface InThreadOptions {
  /** A foreground agent (or a handle's): held by the caller, trusted with the debug actions. */
  foreground?: boolean;
}

/**
 * Puts an agent in the calling thread into the router: its messages go
 * straight into its mailbox, never cloned. Rejects, leaving nothing behind,
 * if the constructor or `afterAdd` throws.
 */
export async function hostInThread<A extends Agent>(
  { router, pool, neighbours, debug }: ThreadContext,
  create: () => A,
  link: LinkOptions,
  mailbox: MailboxOptions,
  { foreground = false }: InThreadOptions = {},
): Promise<{ agent: A; member: Member }> {
  const agent = create();
  const linked = agent as unknown as LinkedAgent;
  const route = routeFor(router, agent.id, mailbox);
  linked[ATTACH]({
    ...link,
    post: (message) => {
      route.sent(message);
      const refusal = debugRefusal(message, foreground, debug);
      router.route(refusal ? answerTo(message, message.to, false, refusal) : message);
    },
    taken: () => route.taken(1),
    compute: (request) => pool.run(request, classModule(agent)),
    // The value answering a plain send from a neighbour that neither awaits nor
    // handles values, with nobody watching the space, would only be dropped on
    // arrival: it is counted as sent and not built (a pipelined sender's answers
    // are half of LocalSpace's work).
    valueUnseen: (request) => {
      if (router.watched() || neighbours.get(request.from)?.[WANTS_VALUE](request.meta.id) !== false) return false;
      route.stats.sent++;
      return true;
    },
  });
  neighbours.set(agent.id, linked);
  route.connect({
    message: (message) => linked[DELIVER](message),
    gone: (peerId, reason) => linked[PEER_GONE](peerId, reason),
  });
  await router.add(agent.id, route);
  try {
    await agent.afterAdd();
  } catch (error) {
    neighbours.delete(agent.id);
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
      route.close(reason);
      neighbours.delete(agent.id);
      await router.delete(agent.id, reason);
      linked[DETACH](reason);
    },
    stats: () => ({ ...route.stats }),
    dropped: () => route.stats.dropped++,
  };
  return { agent, member };
}
