import { Agent, action } from "agentspace";

/** One node of a ring: passes each token on to the next node until its hops are spent. */
export class RingNode extends Agent {
  static module = import.meta.url;
  #next: string;
  #finish: string;

  constructor(id: string, init: { next: string; finish: string }) {
    super(id, init);
    this.#next = init.next;
    this.#finish = init.finish;
  }

  @action
  pass({ token, hops }: { token: number; hops: number }): void {
    if (hops === 0) this.send({ to: this.#finish, action: { name: "finished", args: { token } } });
    else this.send({ to: this.#next, action: { name: "pass", args: { token, hops: hops - 1 } } });
  }

  @action
  hello(): number {
    return 1;
  }
}
