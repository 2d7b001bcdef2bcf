import { hostInThread, type Member } from "../in-thread.js";
import { Space, type AddOptions, type AgentClass } from "../space.js";

/**
 * Every agent in the calling thread; messages move through in-memory
 * mailboxes and are never cloned. For tests, notebooks and small apps, and
 * the place to develop an agent before it moves to threads or hosts.
 */
export class LocalSpace extends Space {
  /** `mailboxSize` applies; restarts and thread limits do not (an agent here shares the caller's thread). */
  protected async spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member> {
    const make = () => new Cls(id, init as never);
    const mailboxSize = options.mailboxSize ?? this.options.mailboxSize;
    const { member } = await hostInThread(this.router, make, this.linkOptions(), mailboxSize, this.pool);
    return member;
  }
}
