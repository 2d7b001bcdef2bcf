import { describe, expect, it } from "vitest";
import { FrameError, FrameReader, MAX_FRAME_BYTES, encodeBatch, encodeFrame } from "../../src/redis/direct/frames.js";

describe("direct path frames", () => {
  const message = { meta: { id: "m1" }, from: "a", to: "b", action: { name: "add", args: { text: "héllo ✓" } } };

  it("reads frames however the stream cuts them: byte by byte, or many in one chunk", () => {
    const bytes = Buffer.concat([encodeFrame({ t: "hello", token: "t", secret: "s" }), encodeBatch(1, [JSON.stringify(message)]), encodeFrame({ t: "ping" })]);
    const one = new FrameReader().push(bytes);
    const reader = new FrameReader();
    const split = [];
    for (let i = 0; i < bytes.length; i++) split.push(...reader.push(bytes.subarray(i, i + 1)));
    expect(split).toEqual(one);
    expect(one).toEqual([{ t: "hello", token: "t", secret: "s" }, { t: "batch", first: 1, messages: [message] }, { t: "ping" }]);
  });

  it("reads a large frame arriving in many chunks", () => {
    const big = { ...message, action: { name: "echo", args: { value: "x".repeat(5_000_000) } } };
    const bytes = encodeBatch(7, [JSON.stringify(big)]);
    const reader = new FrameReader();
    const frames = [];
    for (let at = 0; at < bytes.length; at += 65_536) frames.push(...reader.push(bytes.subarray(at, at + 65_536)));
    expect(frames).toEqual([{ t: "batch", first: 7, messages: [big] }]);
  });

  it("applies a limit changed after a frame to the frames after it, even when they came in the same chunk", () => {
    const batch = encodeBatch(1, [JSON.stringify({ ...message, action: { name: "echo", args: { value: "y".repeat(10_000) } } })]);
    const reader = new FrameReader();
    reader.limit = 4_096;
    reader.add(Buffer.concat([encodeFrame({ t: "hello", token: "t", secret: "s" }), batch]));
    expect(reader.next()).toEqual({ t: "hello", token: "t", secret: "s" });
    reader.limit = MAX_FRAME_BYTES;
    expect(reader.next()).toMatchObject({ t: "batch", first: 1 });
    const strict = new FrameReader();
    strict.limit = 4_096;
    expect(() => strict.push(batch)).toThrow(FrameError);
  });

  it("refuses a length past the bound before reading it, and frames of no known shape", () => {
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(MAX_FRAME_BYTES + 1);
    expect(() => new FrameReader().push(huge)).toThrow(FrameError);
    const shapes = ["[]", "null", '{"t":"batch","first":-1,"messages":[]}', '{"t":"ack","got":1,"done":["x"],"refused":[]}', '{"t":"ack","got":1,"done":[],"refused":[[1,"why"]]}', '{"t":"other"}', "{"];
    for (const body of shapes) {
      const frame = Buffer.concat([Buffer.alloc(4), Buffer.from(body)]);
      frame.writeUInt32BE(Buffer.byteLength(body));
      expect(() => new FrameReader().push(frame), body).toThrow(FrameError);
    }
  });
});
