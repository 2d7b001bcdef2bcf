import { describe, expect, it } from "vitest";
import { LocalSpace, MultiprocessSpace, RemoteActionError, type Space } from "../src/index.js";
import { Cruncher } from "./fixtures/cruncher.js";

/** A gate the pool task waits at until the test opens it: shared memory, so no timing is involved. */
function gate(): { buffer: SharedArrayBuffer; open(): void } {
  const buffer = new SharedArrayBuffer(4);
  return {
    buffer,
    open() {
      Atomics.store(new Int32Array(buffer), 0, 1);
      Atomics.notify(new Int32Array(buffer), 0);
    },
  };
}

const spaces: Array<[string, () => Space]> = [
  ["LocalSpace", () => new LocalSpace()],
  ["MultiprocessSpace", () => new MultiprocessSpace()],
  ["MultiprocessSpace with threads: 2", () => new MultiprocessSpace({ threads: 2 })],
];

describe.each(spaces)("the CPU pool in %s", (_name, makeSpace) => {
  it("runs agent.compute tasks on the pool while the agent keeps answering", async () => {
    await using space = makeSpace();
    await space.add(Cruncher, "cruncher");
    const cruncher = space.handle<Cruncher>("cruncher");
    const { buffer, open } = gate();
    const crunching = cruncher.crunch({ gate: buffer, limit: 10_000 });
    // The task is blocked in a pool thread; the agent's own thread is free.
    await expect(cruncher.ping()).resolves.toBe("pong");
    open();
    await expect(crunching).resolves.toBe(1_229);
  });

  it("runs an offload action on the pool while the agent keeps answering", async () => {
    await using space = makeSpace();
    await space.add(Cruncher, "cruncher");
    const cruncher = space.handle<Cruncher>("cruncher");
    const { buffer, open } = gate();
    const squaring = cruncher.gatedSquare({ gate: buffer, n: 12 });
    await expect(cruncher.ping()).resolves.toBe("pong");
    open();
    await expect(squaring).resolves.toBe(144);
  });

  it("gives a failing task's error to the caller", async () => {
    await using space = makeSpace();
    await space.add(Cruncher, "cruncher");
    const failure = space.handle<Cruncher>("cruncher").fail({ why: "no such input" });
    await expect(failure).rejects.toBeInstanceOf(RemoteActionError);
    await expect(failure).rejects.toThrow("RangeError: no such input");
    // Said once: "RemoteActionError: RangeError: …", never with the prefix twice.
    const error = (await failure.catch((caught: unknown) => caught)) as Error;
    expect(`${error.name}: ${error.message}`).toMatch(/^RemoteActionError: RangeError: no such input/);
  });
});
