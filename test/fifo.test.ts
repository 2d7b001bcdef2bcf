/**
 * The ring the mailboxes and the run queue keep their items in
 * (src/host/fifo.ts): whatever the mix of pushes and shifts, and however
 * often it grows, it hands items out in the order they came, as an array
 * used as a queue would.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { Fifo } from "../src/host/fifo.js";

it("hands items out in arrival order through any mix of pushes, shifts and growth", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(0)), { maxLength: 200 }), (steps) => {
      const fifo = new Fifo<number>();
      const model: number[] = [];
      let next = 0;
      for (const step of steps) {
        if (step === 0) {
          expect(fifo.shift()).toBe(model.shift());
        } else {
          // A run of pushes: past the ring's size, it grows with items still waiting at its front.
          for (let i = 0; i < step; i++) {
            fifo.push(next);
            model.push(next++);
          }
        }
        expect(fifo.length).toBe(model.length);
      }
      expect(fifo.takeAll()).toEqual(model);
      expect(fifo.length).toBe(0);
      expect(fifo.shift()).toBeUndefined();
    }),
  );
});
