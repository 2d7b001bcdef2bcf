/** Durable state's cost: the same account, kept (its balance written after every deposit) and not. */
import { Agent, action } from "agentspace";

export class PlainAccount extends Agent {
  static module = import.meta.url;
  balance = 0;

  @action
  deposit({ n }: { n: number }): number {
    this.balance += n;
    return this.balance;
  }
}

export class DurableAccount extends PlainAccount {
  static override module = import.meta.url;
  static durable = true;
}
