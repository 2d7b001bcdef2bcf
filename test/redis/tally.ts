import { Agent, action } from "../../src/index.js";

/** Works on numbered jobs and tells an observer each time it runs one: runs are counted, twice-run jobs seen. */
export class Tally extends Agent {
  static module = import.meta.url;
  #observer: string;

  constructor(id: string, init: { observer: string }) {
    super(id);
    this.#observer = init.observer;
  }

  @action
  async work({ n, ms }: { n: number; ms: number }): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.send({ to: this.#observer, action: { name: "note", args: { event: `ran ${n}` } } });
    return n * 2;
  }
}

/** Tally running one job at a time: what it has taken and not answered stays in Redis as pending for a while. */
export class SerialTally extends Tally {
  static override module = import.meta.url;
  static serial = true;
}
