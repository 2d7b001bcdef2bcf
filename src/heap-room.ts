import { lazily } from "./node-builtin.js";

const v8 = lazily<typeof import("node:v8")>("node:v8");

/**
 * A thread takes no more agents once less than this is left of its heap
 * limit: a tenth of it, and at least 64 MB, since the limit counts the young
 * generation too (48 MB by default), which old objects cannot use.
 */
const reserve = (limit: number) => Math.max(0.1 * limit, 64 * 2 ** 20);
/** Reading the heap costs a microsecond or two: every so many adds, not each. */
const CHECK_EVERY = 256;
let adds = 0;

/**
 * Throws, naming the flag to raise, when this thread's heap is nearly full:
 * an `add` that would take the thread out of memory (a crash that takes
 * every agent with it) is refused while there is room left to say why.
 * `where` names the thread; `agents`, how many agents it holds.
 */
export function checkHeapRoom(where: string, agents: number): void {
  if (++adds % CHECK_EVERY !== 0) return;
  const { used_heap_size: used, heap_size_limit: limit } = v8().getHeapStatistics();
  if (limit - used >= reserve(limit)) return;
  const mb = (bytes: number) => Math.round(bytes / 1e6).toLocaleString("en-US");
  const larger = Math.ceil((limit * 2) / 1024 ** 3) * 1024;
  throw new RangeError(
    `no room for another agent: ${where}'s heap is ${mb(used)} of its ${mb(limit)} MB full, with ${agents.toLocaleString("en-US")} agents. ` +
      `Start node with a larger heap (node --max-old-space-size=${larger}, or NODE_OPTIONS=--max-old-space-size=${larger}; ` +
      `worker threads take the same limit), or spread the agents over processes (RedisSpace, agentspace node).`,
  );
}
