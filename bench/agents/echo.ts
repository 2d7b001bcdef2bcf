/** Request latency: an agent that answers at once, and one that times sequential requests. */
import { Agent, action } from "agentspace";

export class Echo extends Agent {
  static module = import.meta.url;

  @action
  echo({ n }: { n: number }): number {
    return n;
  }
}

/** Times sequential requests to another agent, in its own thread: what an agent waits. */
export class Pinger extends Agent {
  static module = import.meta.url;

  /** `k` round trips to `to`'s `echo`, one after another; each one's duration in ns. */
  @action
  async pings({ to, k }: { to: string; k: number }): Promise<number[]> {
    const samples: number[] = [];
    for (let i = 0; i < k; i++) {
      const start = process.hrtime.bigint();
      await this.request({ to, action: { name: "echo", args: { n: i } } });
      samples.push(Number(process.hrtime.bigint() - start));
    }
    return samples;
  }
}
