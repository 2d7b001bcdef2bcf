/**
 * Load: 100 agents each make 1,000 requests (all in flight at once) to ten
 * peers, and every answer must come back to the request it answers. The
 * assertions are about correctness only — never about how fast.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Agent, LocalSpace, MultiprocessSpace, type Message, type Space } from "../src/index.js";
import { EchoPeer, type FireReport } from "./fixtures/recording.js";

const AGENTS = 100;
const REQUESTS = 1_000;
/** Each agent spreads its requests over this many peers (the next ones round the ring), so each also answers that many. */
const FAN_OUT = 10;
/**
 * Generous, so that a slow, shared CI machine never fails a correct run: it
 * only turns a lost answer into a RequestTimeoutError in the report instead
 * of a hung test. (Here the MultiprocessSpace run takes ~20 s, ~45 s with
 * other suites running beside it.)
 */
const REQUEST_TIMEOUT_MS = 150_000;

const ids = Array.from({ length: AGENTS }, (_, i) => `peer-${i}`);
const peersOf = (i: number) => Array.from({ length: FAN_OUT }, (_, m) => ids[(i + 1 + m) % AGENTS]!);

const SPACES: Array<{ name: string; make: () => Space }> = [
  { name: "LocalSpace", make: () => new LocalSpace({ requestTimeoutMs: REQUEST_TIMEOUT_MS }) },
  { name: "MultiprocessSpace", make: () => new MultiprocessSpace({ requestTimeoutMs: REQUEST_TIMEOUT_MS }) },
];

describe.each(SPACES)("$name under load", ({ make }) => {
  let space: Space | undefined;

  afterEach(async () => {
    await space?.destroy();
    space = undefined;
  });

  it(
    `completes ${AGENTS} agents × ${REQUESTS.toLocaleString("en")} requests each, every answer matched to its request`,
    async () => {
      space = make();
      const errors: Error[] = [];
      space.on("error", (error) => errors.push(error));
      await Promise.all(ids.map((id) => space!.add(EchoPeer, id)));
      const driver = await space.addForeground(Agent, "driver");

      // Count what the router moves: every echo request and every answer to one, once.
      const echoes = new Map<string, number>();
      let answersToEchoes = 0;
      const echoIds = new Set<string>();
      space.on("message", (message: Message) => {
        if (message.action.name === "echo") {
          echoIds.add(message.meta.id);
          echoes.set(message.from, (echoes.get(message.from) ?? 0) + 1);
        } else if (message.meta.parent_id !== undefined && echoIds.delete(message.meta.parent_id)) {
          answersToEchoes++;
        }
      });

      const reports = await Promise.all(
        ids.map((id, i) =>
          driver.request<FireReport>(
            { to: id, action: { name: "fire", args: { peers: peersOf(i), count: REQUESTS, timeoutMs: REQUEST_TIMEOUT_MS } } },
            { timeoutMs: REQUEST_TIMEOUT_MS + 10_000 },
          ),
        ),
      );

      // Every request answered, each answer its own (nonce, responder and sender all match).
      reports.forEach((report, i) => {
        expect(report, ids[i]).toEqual({ sent: REQUESTS, matched: REQUESTS, mismatched: [], failed: [] });
      });

      // Each agent served exactly its share: REQUESTS / FAN_OUT from each of the FAN_OUT agents before it.
      const served = await Promise.all(ids.map((id) => driver.request<Record<string, number>>({ to: id, action: { name: "received" } })));
      served.forEach((bySender, j) => {
        const expected = Object.fromEntries(
          Array.from({ length: FAN_OUT }, (_, m) => [ids[(j - 1 - m + AGENTS) % AGENTS]!, REQUESTS / FAN_OUT]),
        );
        expect(bySender, ids[j]).toEqual(expected);
      });

      // The router moved each request once and each answer once: nothing doubled, nothing left over.
      expect(Object.fromEntries(echoes)).toEqual(Object.fromEntries(ids.map((id) => [id, REQUESTS])));
      expect(answersToEchoes).toBe(AGENTS * REQUESTS);
      expect(echoIds.size).toBe(0);
      expect(errors).toEqual([]);
    },
    200_000,
  );
});
