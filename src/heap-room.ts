import { lazily } from "./node-builtin.js";

const v8 = lazily<typeof import("node:v8")>("node:v8");
const workerThreads = lazily<typeof import("node:worker_threads")>("node:worker_threads");

/**
 * The young generation's share of V8's heap limit in the main thread (three
 * 16 MiB semi-spaces by default on 64-bit: the limit is --max-old-space-size
 * plus this), which old objects, agents among them, cannot use.
 */
const YOUNG_GENERATION = 48 * 2 ** 20;

/** How much old objects may take in this thread: a worker knows its own limit (resourceLimits); the main thread's is the heap limit less the young generation. */
function oldGenerationLimit(heapLimit: number): number {
  const set = workerThreads().resourceLimits?.maxOldGenerationSizeMb;
  return set ? set * 2 ** 20 : heapLimit - YOUNG_GENERATION;
}
/**
 * A thread takes no more agents once less than this is left of its old
 * generation: a tenth of it, and at least 32 MiB, so that it can still
 * remove the agents it holds (a destroy's removals need memory too) and say
 * why it refused. A reserve counted against the whole limit left about 16 MiB
 * of old space, and a small heap ran out of memory in the destroy after the refusal.
 */
const reserve = (oldLimit: number) => Math.max(0.1 * oldLimit, 32 * 2 ** 20);
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
  const { used_heap_size: used, heap_size_limit: heapLimit } = v8().getHeapStatistics();
  // `used` counts what the young generation holds too: never more room than there is.
  const limit = oldGenerationLimit(heapLimit);
  if (limit - used >= reserve(limit)) return;
  const mb = (bytes: number) => Math.round(bytes / 1e6).toLocaleString("en-US");
  const larger = Math.ceil((limit * 2) / 1024 ** 3) * 1024;
  throw new RangeError(
    `no room for another agent: ${where}'s heap is ${mb(used)} of its ${mb(limit)} MB full, with ${agents.toLocaleString("en-US")} agents. ` +
      `Start node with a larger heap (node --max-old-space-size=${larger}, or NODE_OPTIONS=--max-old-space-size=${larger}; ` +
      `worker threads take the same limit), or spread the agents over processes (RedisSpace, agentspace node).`,
  );
}
