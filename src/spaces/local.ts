import type { AgentClass } from "../agent-class.js";
import { Space, type AddOptions } from "../space.js";
import type { Member } from "../supervisor.js";

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
  protected spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member> {
    return this.startHere(Cls, id, init, options, false).then(memberOf);
  }
}

function memberOf(started: { member: Member }): Member {
  return started.member;
}
