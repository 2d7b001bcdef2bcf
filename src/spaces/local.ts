import { hostInThread, type Member } from "../in-thread.js";
import { Space, type AddOptions, type AgentClass } from "../space.js";

/**
 * Every agent in the calling thread; messages move through in-memory
 * mailboxes and are never cloned. For tests, notebooks and small apps, and
 * the place to develop an agent before it moves to threads or hosts.
 */
export class LocalSpace extends Space {
  /**
   * The mailbox settings apply, and the restart policy after a failed loop
   * or timer (a fresh instance in this thread); placement does not (an agent
   * here shares the caller's thread).
   */
  protected async spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member> {
    const make = () => new Cls(id, init as never);
    const { member } = await hostInThread(this.threadContext(), make, this.linkOptions(), this.mailbox(options), {
      restart: options,
      stopTimeoutMs: this.options.removeTimeoutMs,
      ...(Object.hasOwn(Cls, "module") && typeof Cls.module === "string" ? { source: { module: Cls.module, init } } : {}),
    });
    return member;
  }
}
