/**
 * Error answers nobody handles come in floods (sends into a full mailbox):
 * the first of a kind is said at once, naming the fix, and its repeats as one
 * line a second, to the space's "error" listener when it has one.
 */
import { afterEach, expect, it } from "vitest";
import { LocalSpace, MultiprocessSpace, type Space } from "../src/index.js";
import { Flooder, Slow } from "./fixtures/flood.js";

let space: Space | undefined;
afterEach(async () => {
  await space?.destroy();
  space = undefined;
});

/** Resolves with every error event until one says that repeats were counted. */
function errorsUntilSummary(space: Space): Promise<string[]> {
  const seen: string[] = [];
  return new Promise((resolve) =>
    space.on("error", (error: Error) => {
      seen.push(error.message);
      if (/more MailboxFullError answers/.test(error.message)) resolve(seen);
    }),
  );
}

async function flood(made: Space): Promise<string[]> {
  space = made;
  await space.add(Slow, "slow", undefined, { mailboxSize: 1 });
  await space.add(Flooder, "flooder");
  const errors = errorsUntilSummary(space);
  await space.handle<Flooder>("flooder").flood({ to: "slow", n: 20_000 });
  return errors;
}

function expectSummarised(seen: string[]): void {
  expect(seen[0]).toMatch(/agent "flooder" got an error answer it does not handle: MailboxFullError: .*handleActionError/);
  expect(seen.length).toBeLessThanOrEqual(3);
  const counted = Number(/got ([\d,]+) more/.exec(seen.at(-1)!)![1]!.replaceAll(",", ""));
  expect(counted).toBeGreaterThan(0);
}

it("says the first unhandled error answer at once and its repeats as one line, not 20,000", async () => {
  expectSummarised(await flood(new LocalSpace()));
});

it("does the same for agents in worker threads", async () => {
  expectSummarised(await flood(new MultiprocessSpace({ threads: 2 })));
});
