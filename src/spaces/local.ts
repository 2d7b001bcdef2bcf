import { hostInThread, type Member } from "../in-thread.js";
import { Space, type AgentClass } from "../space.js";

/**
 * Every agent in the calling thread; messages move through in-memory
 * mailboxes and are never cloned. For tests, notebooks and small apps, and
 * the place to develop an agent before it moves to threads or hosts.
 */
export class LocalSpace extends Space {
  protected async spawn(Cls: AgentClass, id: string, init: unknown): Promise<Member> {
    const { member } = await hostInThread(this.router, () => new Cls(id, init as never), this.linkOptions());
    return member;
  }
}
