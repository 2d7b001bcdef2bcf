import { Agent, action } from "agentspace";

/** Counts primes in a range: pure CPU work, one range at a time. */
export class PrimeCounter extends Agent {
  static module = import.meta.url;

  @action({
    help: {
      description: "Counts the primes p with from <= p < to",
      args: { from: { type: "number" }, to: { type: "number" } },
      returns: { type: "number" },
    },
  })
  count({ from, to }: { from: number; to: number }): number {
    return countPrimes(from, to);
  }
}

/** The primes p with from <= p < to: what a counter does with each chunk. */
export function countPrimes(from: number, to: number): number {
  let found = 0;
  for (let n = Math.max(2, from); n < to; n++) if (isPrime(n)) found++;
  return found;
}

export function isPrime(n: number): boolean {
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/**
 * Splits a range into chunks, farms them out to the counters with `request`
 * (a few in flight per counter, so none idles), and reports progress to
 * whoever asked.
 */
export class Coordinator extends Agent {
  static module = import.meta.url;

  @action({ help: "Counts the primes below limit on the given counters" })
  async countPrimes({ limit, chunks, counters }: { limit: number; chunks: number; counters: string[] }): Promise<number> {
    const asker = this.currentMessage()!.from;
    const size = Math.ceil(limit / chunks);
    let next = 0;
    let done = 0;
    let total = 0;
    const work = async (counter: string): Promise<void> => {
      while (next < chunks) {
        const from = next++ * size;
        const found = await this.request<number>({ to: counter, action: { name: "count", args: { from, to: Math.min(limit, from + size) } } });
        total += found;
        done++;
        this.send({ to: asker, action: { name: "progress", args: { done, chunks } } });
      }
    };
    await Promise.all(counters.map(work));
    return total;
  }
}
