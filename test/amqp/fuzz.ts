/**
 * Arbitrary bodies published straight into an AMQPSpace agent's queue, with
 * well-formed requests in between. FUZZ_RUNS sets the number of runs (each
 * up to 50 bodies; default 10, about a second): `FUZZ_RUNS=200 npx vitest run
 * test/amqp.test.ts -t "fuzzed bodies"` for a longer search.
 */
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { AMQPSpace, MessageValidationError, type Message } from "../../src/index.js";
import { agentIdProblem } from "../../src/message.js";
import { Calculator } from "../fixtures/calculator.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { RawPeer } from "./raw-peer.js";

const probe = await probeBroker();

const RUNS = Number(process.env.FUZZ_RUNS ?? 10);
const DEEP = 10_000;
const HOSTILE_KEYS = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"] as const;

type Item =
  /** Not a message: must be dropped and reported as one `error` event. */
  | { kind: "junk"; body: Buffer }
  /** A request that must be answered, in order with the other good ones. */
  | { kind: "good"; value: number }
  /** A valid message with hostile names in it: answered (an error is fine), never a crash. */
  | { kind: "hostile"; make: (id: string) => Buffer };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The wire's rule, restated here on its own: is `body` a message the space must take? */
function wellFormed(body: Buffer): boolean {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return false;
  }
  if (!isRecord(value)) return false;
  const [meta, from, to, action] = (["meta", "from", "to", "action"] as const).map((key) => own(value, key));
  if (!isRecord(meta) || typeof own(meta, "id") !== "string" || own(meta, "id") === "") return false;
  const parentId = own(meta, "parent_id");
  if (parentId !== undefined && typeof parentId !== "string") return false;
  if (agentIdProblem(from) !== undefined) return false;
  if (to !== "*" && agentIdProblem(to) !== undefined) return false;
  if (!isRecord(action) || typeof own(action, "name") !== "string" || own(action, "name") === "") return false;
  const args = own(action, "args");
  return args === undefined || isRecord(args);
}

/** An object with `key` as an own property, even `__proto__` (a literal would set the prototype instead). */
function withKey(record: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  return { ...record, ...Object.fromEntries([[key, value]]) };
}

function deepText(kind: "array" | "object", depth: number, inner = "0"): string {
  return kind === "array" ? "[".repeat(depth) + inner + "]".repeat(depth) : '{"a":'.repeat(depth) + inner + "}".repeat(depth);
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

/** Bodies that are not messages, each kind of fault on its own. */
function junkArbitrary(to: string, from: string): fc.Arbitrary<Buffer> {
  const valid = { meta: { id: "j" }, from, to, action: { name: "echo", args: { value: "é€😀" } } };
  const badId = fc.constantFrom("*", "", "amq.x", "x-broadcast", "a#b", "a*", "x".repeat(246), "€".repeat(82));
  const wrongType = fc.constantFrom<unknown>(null, 0, "", [], true, {});
  const field = fc.constantFrom("meta", "meta.id", "meta.parent_id", "from", "to", "action", "action.name", "action.args");
  const mutate = (path: string, replacement: unknown, remove: boolean): Record<string, unknown> => {
    const copy = structuredClone(valid) as unknown as Record<string, Record<string, unknown>>;
    const [head, tail] = path.split(".") as [string, string | undefined];
    const target: Record<string, unknown> = tail === undefined ? copy : copy[head]!;
    const key = tail ?? head;
    if (remove) delete target[key];
    else target[key] = replacement;
    return copy;
  };
  return fc.oneof(
    // Random bytes: mostly not UTF-8, hardly ever JSON.
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    // A message cut short, maybe inside a multi-byte character.
    fc.nat().map((cut) => {
      const whole = json(valid);
      return whole.subarray(0, cut % whole.length);
    }),
    // Nesting deep enough to break a recursive parser: as the body, or beside the fields of a message without "from".
    fc.constantFrom<"array" | "object">("array", "object").chain((kind) =>
      fc.constantFrom(
        deepText(kind, DEEP),
        `{"deep":${deepText(kind, DEEP)},${JSON.stringify({ ...valid, from: undefined }).slice(1)}`,
        `{"meta":${deepText(kind, DEEP)},${JSON.stringify({ ...valid, meta: undefined }).slice(1)}`,
      ),
    ).map((text) => Buffer.from(text, "utf8")),
    // Not an object at all.
    fc.oneof(fc.double(), fc.string(), fc.constant(null), fc.boolean(), fc.array(fc.jsonValue(), { maxLength: 5 })).map(json),
    // One field missing or of the wrong type.
    fc
      .tuple(field, wrongType, fc.boolean())
      .map(([path, value, remove]) => json(mutate(path, value, remove)))
      .filter((body) => !wellFormed(body)), // an optional field may go, and args may be {}
    // An address that is no agent id.
    fc
      .tuple(fc.constantFrom("from", "to"), badId)
      .filter(([path, id]) => !(path === "to" && id === "*")) // everyone: a good "to"
      .map(([path, id]) => json(mutate(path, id, false))),
    // The fields where only an inherited name would find them, and hostile keys at every level.
    fc.constantFrom(...HOSTILE_KEYS).map((key) => {
      const { from: moved, ...rest } = valid;
      const meta = withKey(valid.meta, key, { id: "x" });
      const action = withKey(valid.action, key, { name: "echo" });
      return json(withKey({ ...rest, meta, action }, key, { from: moved }));
    }),
    // Huge strings where short ones belong, or as the whole body.
    fc.constantFrom(
      Buffer.from("x".repeat(2_000_000), "utf8"),
      json({ ...valid, from: "f".repeat(1_000_000) }),
      json({ ...valid, action: "a".repeat(1_000_000) }),
    ),
  );
}

/**
 * Valid messages with hostile names where a lookup by name could find an
 * inherited key, or with arguments nested too deep to copy to a worker.
 */
function hostileArbitrary(to: string, from: string): fc.Arbitrary<(id: string) => Buffer> {
  const named = fc.tuple(fc.constantFrom(...HOSTILE_KEYS, "echo"), fc.constantFrom(...HOSTILE_KEYS)).map(([name, key]) => {
    const args = withKey({ value: withKey({}, key, { polluted: true }) }, key, { polluted: true });
    return (id: string) => json(withKey({ meta: withKey({ id }, key, "x"), from, to, action: withKey({ name, args }, key, 1) }, key, { to: "*" }));
  });
  const deep = fc.constantFrom<"array" | "object">("array", "object").map((kind) => (id: string) => {
    const text = JSON.stringify({ meta: { id }, from, to, action: { name: "echo", args: { value: "DEEP" } } });
    return Buffer.from(text.replace('"DEEP"', deepText(kind, DEEP)), "utf8");
  });
  return fc.oneof(named, deep);
}

/** How a body shows in a counterexample: its length and its start, not megabytes of numbers. */
function shown(body: Buffer): string {
  const start = JSON.stringify(body.subarray(0, 120).toString("utf8"));
  return `${body.length} bytes: ${start}${body.length > 120 ? "…" : ""}`;
}

function junkItem(body: Buffer): Item {
  return Object.assign({ kind: "junk" as const, body }, { [fc.toStringMethod]: () => `junk(${shown(body)})` });
}

function hostileItem(make: (id: string) => Buffer): Item {
  return Object.assign({ kind: "hostile" as const, make }, { [fc.toStringMethod]: () => `hostile(${shown(make("id"))})` });
}

function itemArbitrary(to: string, from: string): fc.Arbitrary<Item> {
  return fc.oneof(
    { weight: 3, arbitrary: junkArbitrary(to, from).map(junkItem) },
    { weight: 2, arbitrary: fc.integer().map((value): Item => ({ kind: "good", value })) },
    { weight: 1, arbitrary: hostileArbitrary(to, from).map(hostileItem) },
  );
}

describeWithBroker("AMQPSpace fuzzed bodies", probe, () => {
  const exchange = uniqueExchange("agentspace-fuzz");
  const suffix = exchange.slice(-6);
  const [calcId, peerId] = [`calc-${suffix}`, `raw-${suffix}`];
  const errors: Error[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let space: AMQPSpace;
  let peer: RawPeer;
  let run = 0;

  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    space = new AMQPSpace({ exchange });
    space.on("error", (error) => errors.push(error));
    await space.add(Calculator, calcId);
    peer = await RawPeer.open(probe, peerId, exchange);
  });

  afterAll(async () => {
    process.off("unhandledRejection", onUnhandled);
    await peer?.close();
    await space?.destroy();
  });

  it("drops and reports every malformed body, and answers every good request in order", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(itemArbitrary(calcId, peerId), { minLength: 1, maxLength: 50, size: "max" }), async (items) => {
        const prefix = `run-${run++}-`;
        const errorsBefore = errors.length;
        const receivedBefore = peer.received.length;
        const junk = items.filter((item) => item.kind === "junk");
        for (const item of junk) expect(wellFormed(item.body), "a junk body the test made is a valid message").toBe(false);
        const goods: number[] = [];
        const hostiles: string[] = [];
        for (const item of items) {
          if (item.kind === "good") {
            const id = `${prefix}g${goods.length}`;
            goods.push(item.value);
            peer.publish({ meta: { id }, from: peerId, to: calcId, action: { name: "echo", args: { value: item.value } } });
          } else if (item.kind === "hostile") {
            const id = `${prefix}h${hostiles.length}`;
            hostiles.push(id);
            peer.publishRaw(calcId, item.make(id));
          } else {
            peer.publishRaw(calcId, item.body);
          }
        }
        // The last word: once it is answered, everything before it on the queue has been taken.
        const last = `${prefix}last`;
        peer.publish({ meta: { id: last }, from: peerId, to: calcId, action: { name: "echo", args: { value: "last" } } });
        await peer.until(
          () => peer.answersTo(last).length > 0,
          () => `the answer to ${last} (errors: ${errors.slice(errorsBefore).map((error) => error.message.slice(0, 200)).join("; ")})`,
        );

        const arrived = peer.received.slice(receivedBefore);
        const answersTo = (id: string) => arrived.filter((message: Message) => message.meta.parent_id === id);
        const goodAnswers = arrived.filter((message) => message.meta.parent_id?.startsWith(`${prefix}g`));
        expect(goodAnswers.map((message) => [message.meta.parent_id, message.action])).toEqual(
          goods.map((value, i) => [`${prefix}g${i}`, { name: "[response]", args: { value } }]),
        );
        for (const id of hostiles) expect(answersTo(id), id).toHaveLength(1);
        // Nothing else was answered: no junk reached the agent.
        expect(arrived.filter((message) => !message.meta.parent_id?.startsWith(prefix))).toEqual([]);
        const reported = errors.slice(errorsBefore);
        expect(reported.map((error) => error.message.slice(0, 200))).toHaveLength(junk.length);
        for (const error of reported) expect(error).toBeInstanceOf(MessageValidationError);
        expect(unhandled).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    // Still alive and answering after all of it.
    await expect(space.handle<Calculator>(calcId).add({ a: 2, b: 3 })).resolves.toBe(5);
  }, Math.max(120_000, RUNS * 1_000));
});
