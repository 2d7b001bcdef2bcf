/**
 * What broker spaces carry: JSON, exactly. A value JSON would change or
 * refuse is named, with its path, before it is sent.
 */
import { isDeepStrictEqual } from "node:util";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MessageValidationError } from "../src/errors.js";
import { MAX_JSON_DEPTH, assertJsonValue, jsonValueProblem } from "../src/json-value.js";

class Point {
  constructor(
    readonly x = 1,
    readonly y = 2,
  ) {}
}

class List extends Array<number> {}

/** `n` arrays, each holding the next; the innermost holds 0. */
function nested(n: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < n; i++) value = [value];
  return value;
}

describe("jsonValueProblem", () => {
  it("accepts what JSON carries exactly", () => {
    const values: unknown[] = [
      null,
      true,
      0,
      -1.5e300,
      "text with \u2028 and a lone \ud800 surrogate",
      [],
      {},
      { a: [1, "two", { three: [null, false] }] },
      Object.create(null),
      { optional: undefined }, // omitted by JSON, as optional fields are
      undefined, // an absent value: nothing to carry
      -0, // arrives as 0, which === -0
      nested(MAX_JSON_DEPTH),
    ];
    for (const value of values) expect(jsonValueProblem(value, "args")).toBeUndefined();
  });

  it("names the path and the kind of what JSON cannot carry", () => {
    const cases: Array<[unknown, string]> = [
      [{ v: new Map() }, "args.v: Map cannot travel as JSON"],
      [{ v: new Set([1]) }, "args.v: Set cannot travel as JSON"],
      [{ list: [1, 2, { when: new Date(0) }] }, "args.list[2].when: Date cannot travel as JSON"],
      [{ pattern: /x/ }, "args.pattern: RegExp cannot travel as JSON"],
      [{ bytes: new Uint8Array(2) }, "args.bytes: Uint8Array cannot travel as JSON"],
      [{ buffer: new ArrayBuffer(2) }, "args.buffer: ArrayBuffer cannot travel as JSON"],
      [{ view: new DataView(new ArrayBuffer(2)) }, "args.view: DataView cannot travel as JSON"],
      [{ node: Buffer.from("x") }, "args.node: Uint8Array cannot travel as JSON"],
      [{ big: 10n }, "args.big: BigInt cannot travel as JSON"],
      [{ n: NaN }, "args.n: NaN cannot travel as JSON (it would arrive as null)"],
      [{ n: [Infinity] }, "args.n[0]: Infinity cannot travel as JSON (it would arrive as null)"],
      [{ n: -Infinity }, "args.n: -Infinity cannot travel as JSON (it would arrive as null)"],
      [{ f: () => 1 }, "args.f: a function cannot travel as JSON"],
      [{ s: Symbol("s") }, "args.s: a symbol cannot travel as JSON"],
      [{ list: [1, undefined] }, "args.list[1]: undefined in an array cannot travel as JSON (it would arrive as null)"],
      // eslint-disable-next-line no-sparse-arrays
      [{ list: [1, , 3] }, "args.list[1]: a hole in a sparse array cannot travel as JSON (it would arrive as null)"],
      [{ p: new Point() }, "args.p: an instance of Point cannot travel as JSON (only plain objects and arrays can)"],
      [{ l: List.from([1]) }, "args.l: an instance of List cannot travel as JSON (only plain objects and arrays can)"],
      [{ e: new Error("x") }, "args.e: Error cannot travel as JSON"],
      [{ boxed: Object(1) }, "args.boxed: Number cannot travel as JSON"],
      [
        { t: { toJSON: () => "other" } },
        "args.t: an object with a toJSON method cannot travel as JSON (JSON would send what toJSON returns instead)",
      ],
      [{ "two words": new Map(), ok: 1 }, 'args["two words"]: Map cannot travel as JSON'],
    ];
    for (const [value, problem] of cases) expect(jsonValueProblem(value, "args")).toBe(problem);
  });

  it("names a cycle where it closes, and what it leads back to", () => {
    const args: Record<string, unknown> = { a: { b: {} } };
    const a = args.a as { b: Record<string, unknown> };
    a.b.back = a;
    expect(jsonValueProblem(args, "args")).toBe("args.a.b.back: a reference back to args.a (a cycle) cannot travel as JSON");
    const list: unknown[] = [1];
    list.push({ list });
    expect(jsonValueProblem({ list }, "args")).toBe("args.list[1].list: a reference back to args.list (a cycle) cannot travel as JSON");
    const self: Record<string, unknown> = {};
    self.me = self;
    expect(jsonValueProblem(self, "")).toBe("me: a reference back to the value itself (a cycle) cannot travel as JSON");
  });

  it("accepts an object reached twice without a cycle: JSON copies it", () => {
    const shared = { x: 1 };
    expect(jsonValueProblem({ a: shared, b: [shared, shared] }, "args")).toBeUndefined();
  });

  it("refuses nesting deeper than the bound, saying so, with a path cut short", () => {
    const problem = jsonValueProblem({ deep: nested(MAX_JSON_DEPTH) }, "args");
    expect(problem).toBe(`args.deep${"[0]".repeat(7)}…: nesting deeper than ${MAX_JSON_DEPTH} levels cannot travel as JSON`);
  });

  it("names a property whose getter throws", () => {
    const value = {
      get broken(): never {
        throw new Error("boom");
      },
    };
    expect(jsonValueProblem({ value }, "args")).toBe("args.value.broken: a property whose reading threw (Error: boom) cannot travel as JSON");
  });

  it("accepts plain objects and arrays from another realm (a REPL's vm context)", () => {
    const foreign: unknown = runInNewContext("({ list: [1, { x: 'y' }], empty: {} })");
    expect(jsonValueProblem(foreign, "args")).toBeUndefined();
    const foreignMap: unknown = runInNewContext("({ m: new Map() })");
    expect(jsonValueProblem(foreignMap, "args")).toBe("args.m: Map cannot travel as JSON");
  });

  it("leaves out what JSON leaves out: symbol keys, non-enumerable and inherited properties", () => {
    const value = { shown: 1, [Symbol("hidden")]: new Map() };
    Object.defineProperty(value, "secret", { value: new Set(), enumerable: false });
    expect(jsonValueProblem(value, "args")).toBeUndefined();
  });

  it("without a path, names the place from the root", () => {
    expect(jsonValueProblem({ action: { args: { v: new Map() } } }, "")).toBe("action.args.v: Map cannot travel as JSON");
    expect(jsonValueProblem(new Map(), "")).toBe("Map cannot travel as JSON");
  });
});

describe("assertJsonValue", () => {
  it("throws MessageValidationError with the problem, and nothing for a good value", () => {
    expect(() => assertJsonValue({ v: new Map() }, "args")).toThrow(MessageValidationError);
    expect(() => assertJsonValue({ v: new Map() }, "args")).toThrow("args.v: Map cannot travel as JSON");
    expect(() => assertJsonValue({ v: [1, { w: "x" }] }, "args")).not.toThrow();
  });
});

// ---- properties ----

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** How a path names a step: `.key`, `["odd key"]` or `[3]`. */
function step(key: string | number): string {
  if (typeof key === "number") return `[${key}]`;
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

// -0 is left out: JSON brings it back as 0, equal by === but not by Object.is.
const jsonNumber = fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n));
const jsonString = fc.oneof(fc.string(), fc.string({ unit: "binary" }));

const { value: jsonSafe, container: jsonContainer } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small" }, fc.constant(null), fc.boolean(), jsonNumber, jsonString, tie("container")),
  container: fc.oneof({ depthSize: "small" }, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 4 }),
  // Properties may be undefined: JSON omits them, as optional fields are omitted.
  object: fc.dictionary(jsonString, fc.option(tie("value"), { nil: undefined, freq: 4 }), { maxKeys: 4, noNullPrototype: true }),
}));

/** What JSON should give back: the same value, without the undefined properties of its plain objects. */
function withoutUndefinedProperties(value: unknown): unknown {
  if (Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype) return value.map(withoutUndefinedProperties);
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== undefined) Object.defineProperty(result, key, { value: withoutUndefinedProperties(item), enumerable: true, writable: true, configurable: true });
  }
  return result;
}

interface Place {
  container: Record<string, unknown> | unknown[];
  path: string;
  /** The containers from the root down to this one, with their paths. */
  ancestors: Array<{ container: object; path: string }>;
}

/** Every container of `root`, depth first, each with its path from "args". */
function places(root: object): Place[] {
  const found: Place[] = [];
  const walk = (container: Record<string, unknown> | unknown[], path: string, ancestors: Place["ancestors"]) => {
    const here = [...ancestors, { container, path }];
    found.push({ container, path, ancestors: here });
    const entries: Array<[string | number, unknown]> = Array.isArray(container) ? container.map((item, i) => [i, item]) : Object.entries(container);
    for (const [key, item] of entries) {
      if (typeof item === "object" && item !== null) walk(item as Record<string, unknown>, path + step(key), here);
    }
  };
  walk(root as Record<string, unknown>, "args", []);
  return found;
}

/** One part JSON cannot carry exactly, and the first words of what the check says about it. */
interface Unsafe {
  make: (place: Place, pick: number) => unknown;
  says: (place: Place, pick: number) => string;
  arraysOnly?: boolean;
}

const constant = (make: () => unknown, says: string): Unsafe => ({ make, says: () => says });

const unsafeParts: Unsafe[] = [
  constant(() => new Map([[1, 2]]), "Map cannot"),
  constant(() => new Set(["a"]), "Set cannot"),
  constant(() => new Date(0), "Date cannot"),
  constant(() => /re/g, "RegExp cannot"),
  constant(() => new Float64Array(1), "Float64Array cannot"),
  constant(() => new ArrayBuffer(1), "ArrayBuffer cannot"),
  constant(() => new DataView(new ArrayBuffer(1)), "DataView cannot"),
  constant(() => 2n ** 70n, "BigInt cannot"),
  constant(() => NaN, "NaN cannot"),
  constant(() => Infinity, "Infinity cannot"),
  constant(() => -Infinity, "-Infinity cannot"),
  constant(() => () => "f", "a function cannot"),
  constant(() => Symbol("s"), "a symbol cannot"),
  constant(() => new Point(), "an instance of Point cannot"),
  constant(() => ({ toJSON: () => 1 }), "an object with a toJSON method cannot"),
  {
    // A reference to the container itself or to one above it.
    make: (place, pick) => place.ancestors[pick % place.ancestors.length]!.container,
    says: (place, pick) => `a reference back to ${place.ancestors[pick % place.ancestors.length]!.path} (a cycle) cannot`,
  },
  { ...constant(() => undefined, "undefined in an array cannot"), arraysOnly: true },
];

/** Puts `part` into `place` at `slot`; returns the path it is found at. `hole` leaves a hole there instead. */
function insert(place: Place, part: unknown, slot: number, key: string, hole: boolean): string {
  const { container } = place;
  if (Array.isArray(container)) {
    const at = slot % (container.length + 1);
    container.splice(at, 0, part);
    if (hole) delete container[at];
    return place.path + step(at);
  }
  // defineProperty: a key "__proto__" must become a property, not the prototype.
  Object.defineProperty(container, key, { value: part, enumerable: true, writable: true, configurable: true });
  return place.path + step(key);
}

describe("jsonValueProblem, properties", () => {
  it("passes every value made of JSON-safe parts, which JSON gives back equal", () => {
    fc.assert(
      fc.property(jsonSafe, (value) => {
        expect(jsonValueProblem(value, "args")).toBeUndefined();
        expect(isDeepStrictEqual(JSON.parse(JSON.stringify(value)), withoutUndefinedProperties(value))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("names the place of the one unsafe part, wherever it is, which JSON would not give back", () => {
    const scenario = fc.record({
      root: jsonContainer,
      where: fc.nat(),
      slot: fc.nat(),
      pick: fc.nat(),
      key: jsonString,
      unsafe: fc.nat({ max: unsafeParts.length }), // the last index stands for a hole
    });
    fc.assert(
      fc.property(scenario, ({ root, where, slot, pick, key, unsafe }) => {
        const value = structuredClone(root) as object; // the generated value is left alone
        const candidates = places(value);
        const hole = unsafe === unsafeParts.length;
        const part = unsafeParts[unsafe];
        const usable = hole || part?.arraysOnly ? candidates.filter((p) => Array.isArray(p.container)) : candidates;
        fc.pre(usable.length > 0);
        const place = usable[where % usable.length]!;
        const path = insert(place, part?.make(place, pick), slot, key, hole);
        const says = hole ? "a hole in a sparse array cannot" : part!.says(place, pick);
        expect(jsonValueProblem(value, "args")).toMatch(new RegExp(`^${escapeRegExp(`${path}: ${says} travel as JSON`)}`));
        expect(roundTripsExactly(value)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Whether JSON gives `value` back equal (undefined properties aside). */
function roundTripsExactly(value: unknown): boolean {
  let back: unknown;
  try {
    back = JSON.parse(JSON.stringify(value));
  } catch {
    return false; // BigInt, a cycle
  }
  return isDeepStrictEqual(back, withoutUndefinedProperties(value));
}
