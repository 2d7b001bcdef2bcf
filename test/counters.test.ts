/** The per-thread counts: slots handed out in chunks of fixed buffers, each written only where it lives. */
import { describe, expect, it } from "vitest";
import { CountSlots, SENT, SLOT_SIZE } from "../src/host/counters.js";

describe("CountSlots", () => {
  it("hands out distinct slots across chunks, each readable where it was written", () => {
    const slots = new CountSlots(true);
    const taken = Array.from({ length: 5_000 }, () => slots.take());
    expect(new Set(taken).size).toBe(5_000);
    for (const slot of taken) {
      const { values, at } = slots.slot(slot);
      values[at + SENT] = slot + 1;
    }
    for (const slot of taken) expect(slots.read(slot, SENT)).toBe(slot + 1);
    // Fixed-size buffers (a typed array over a growable one is several times slower to write), shared with a worker.
    const { values, chunk } = slots.slot(4_999);
    expect(chunk).toBeGreaterThan(0);
    expect(values.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect((values.buffer as SharedArrayBuffer & { growable?: boolean }).growable).toBeFalsy();
  });

  it("gives a slot back as zeros to the next agent", () => {
    const slots = new CountSlots(false);
    const first = slots.take();
    const { values, at } = slots.slot(first);
    values.fill(7, at, at + SLOT_SIZE);
    slots.give(first);
    const again = slots.take();
    expect(again).toBe(first);
    expect(slots.read(again, SENT)).toBe(0);
  });
});
