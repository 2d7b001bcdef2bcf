/**
 * The agents of one thread take turns (src/host/run-queue.ts): one agent's
 * flood does not shut out another's messages, and agents that keep each
 * other busy for ever still let the thread's event loop run.
 */
import { afterEach, expect, it } from "vitest";
import { Agent, LocalSpace, action } from "../src/index.js";

/** Rallies with its partner for as long as `playing`: a plain send each way, never awaiting. */
class Rally extends Agent {
  static playing = true;
  hits = 0;

  @action
  hit({ partner }: { partner: string }): void {
    this.hits++;
    if (Rally.playing) this.send({ to: partner, action: { name: "hit", args: { partner: this.id } } });
  }

  @action
  count(): number {
    return this.hits;
  }
}

/** What the flooded agent has taken so far, as the other agent sees it when its turn comes. */
let floodTaken = 0;

/** Takes a flood of plain sends (`take`), or says how far the flood has got (`peek`). */
class Busy extends Agent {
  @action take(): void {
    floodTaken++;
  }
  @action peek(): number {
    return floodTaken;
  }
}

let space: LocalSpace | undefined;
afterEach(async () => {
  Rally.playing = false;
  await space?.destroy();
  space = undefined;
});

it("lets timers run while two agents rally for ever", async () => {
  space = new LocalSpace();
  Rally.playing = true;
  const me = await space.addForeground(Agent, "me");
  await space.add(Rally, "a");
  await space.add(Rally, "b");
  me.send({ to: "a", action: { name: "hit", args: { partner: "b" } } });
  // Without turns for the event loop, this timer would never fire: the rally is all microtasks.
  await new Promise((resolve) => setTimeout(resolve, 20));
  Rally.playing = false;
  const hits = await space.handle<Rally>("a").count();
  expect(hits).toBeGreaterThan(1_000);
});

it("answers a request to one agent while another works through a flood", async () => {
  space = new LocalSpace({ mailboxSize: 200_000 });
  const me = await space.addForeground(Agent, "me");
  await space.add(Busy, "flooded");
  await space.add(Busy, "other");
  floodTaken = 0;
  for (let i = 0; i < 100_000; i++) me.send({ to: "flooded", action: { name: "take", args: {} } });
  // The other agent's turn comes after one turn of the flooded one (256 messages), not after all 100,000.
  const seen = await me.request<number>({ to: "other", action: { name: "peek", args: {} } });
  expect(seen).toBeLessThan(100_000);
});
