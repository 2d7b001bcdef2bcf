/**
 * Fan-out: one agent broadcasts to many, or gathers an answer from each.
 * Timing runs in the hub's own thread; the listeners report when a broadcast
 * reached them on the same clock (one process, `process.hrtime`).
 */
import { Agent, action } from "agentspace";

const clock = (): number => Number(process.hrtime.bigint());

export class Listener extends Agent {
  static module = import.meta.url;

  /** A broadcast: answers how long it took to get here, in ns. */
  @action
  hear({ sentAt }: { sentAt: number }): number {
    return clock() - sentAt;
  }

  @action
  answer({ n }: { n: number }): number {
    return n;
  }
}

interface Waiting {
  left: number;
  /** The longest delivery time reported so far, in ns. */
  latest: number;
  done(): void;
}

export interface BroadcastSamples {
  /** Per broadcast: until the last listener had it (ns). */
  reach: number[];
  /** Per broadcast: until every listener's answer was back (ns). */
  answered: number[];
}

export class Hub extends Agent {
  static module = import.meta.url;
  override receiveOwnBroadcasts = false;
  #waiting: Waiting | undefined;

  /** The answers to the broadcasts (plain sends) arrive here. */
  override handleActionValue(value: unknown): void {
    const waiting = this.#waiting;
    if (waiting === undefined || typeof value !== "number") return;
    if (value > waiting.latest) waiting.latest = value;
    if (--waiting.left === 0) waiting.done();
  }

  /** `k` broadcasts, one at a time, each once all `listeners` answered the previous one. */
  @action
  async broadcasts({ k, listeners }: { k: number; listeners: number }): Promise<BroadcastSamples> {
    const samples: BroadcastSamples = { reach: [], answered: [] };
    for (let i = 0; i < k; i++) {
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      const waiting: Waiting = { left: listeners, latest: 0, done };
      this.#waiting = waiting;
      const start = clock();
      this.send({ to: "*", action: { name: "hear", args: { sentAt: start } } });
      await all;
      samples.answered.push(clock() - start);
      samples.reach.push(waiting.latest);
    }
    this.#waiting = undefined;
    return samples;
  }

  /** `k` gathers, one at a time: a request to each listener at once, until all answered (ns each). */
  @action
  async gathers({ k, listeners }: { k: number; listeners: string[] }): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < k; i++) {
      const start = clock();
      await Promise.all(listeners.map((to) => this.request({ to, action: { name: "answer", args: { n: i } } })));
      samples.push(clock() - start);
    }
    return samples;
  }
}
