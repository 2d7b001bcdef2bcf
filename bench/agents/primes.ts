/**
 * The demo's CPU-heavy job (examples/primes.ts), in agents that import the
 * library as "agentspace" like every bench agent: a coordinator farms ranges out
 * to prime counters with `request`, a few in flight per counter.
 */
import { Agent, action } from "agentspace";

function isPrime(n: number): boolean {
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** The primes p with from <= p < to: the work itself, also run with no agent as the baseline. */
export function countPrimes(from: number, to: number): number {
  let found = 0;
  for (let n = Math.max(2, from); n < to; n++) if (isPrime(n)) found++;
  return found;
}

export class PrimeCounter extends Agent {
  static module = import.meta.url;

  @action
  count({ from, to }: { from: number; to: number }): number {
    return countPrimes(from, to);
  }
}

export class Coordinator extends Agent {
  static module = import.meta.url;

  /** As the demo's: `chunks` ranges below `limit`, each counter asking for the next when done. */
  @action
  async countPrimes({ limit, chunks, counters }: { limit: number; chunks: number; counters: string[] }): Promise<number> {
    const size = Math.ceil(limit / chunks);
    let next = 0;
    let total = 0;
    const work = async (counter: string): Promise<void> => {
      while (next < chunks) {
        const from = next++ * size;
        const found = await this.request<number>(
          { to: counter, action: { name: "count", args: { from, to: Math.min(limit, from + size) } } },
          { timeoutMs: Infinity },
        );
        total += found; // not `total += await …`, which would add to the total read before the await
      }
    };
    await Promise.all(counters.map(work));
    return total;
  }
}
