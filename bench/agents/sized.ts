/** Throughput against message size: a sender of payloads of a given size. */
import { Agent, action } from "agentspace";

/** Sends `n` messages of `bytes` characters each to `to`'s `take`, then asks it how many it took. */
export class SizedSender extends Agent {
  static module = import.meta.url;

  @action
  async blastSized({ to, n, bytes }: { to: string; n: number; bytes: number }): Promise<number> {
    const data = "x".repeat(bytes);
    for (let i = 0; i < n; i++) this.send({ to, action: { name: "take", args: { n: i, data } } });
    return this.request<number>({ to, action: { name: "count", args: {} } }, { timeoutMs: Infinity });
  }
}
