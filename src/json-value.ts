import { MessageValidationError } from "./errors.js";

/**
 * Values nested deeper than this are refused. Far beyond any real message,
 * and low enough that the walk (and JSON.stringify after it) stays well
 * inside the call stack; it also ends the walk of a cycle.
 */
export const MAX_JSON_DEPTH = 1_000;

/**
 * Why JSON cannot carry `value` exactly, naming the offending place under
 * `path` (`args.list[2].when: Date cannot travel as JSON`), or undefined
 * when `JSON.parse(JSON.stringify(value))` gives back an equal value.
 *
 * Refused: Map, Set, Date, RegExp, binary data, any other class instance
 * (only plain objects and arrays travel), objects with a `toJSON` method,
 * BigInt, NaN and ±Infinity, functions, symbols, `undefined` or a hole in an
 * array, cycles, and nesting deeper than MAX_JSON_DEPTH.
 *
 * Accepted although JSON leaves them out: an object property whose value is
 * `undefined` (an omitted optional field), and the value `undefined` itself.
 * Symbol-keyed and non-enumerable properties are not looked at: structured
 * clone leaves them out too, so every space carries the same value. `-0`
 * arrives as `0`, which `===` it.
 *
 * Runs on every message of a broker space: nothing is allocated unless
 * something is wrong.
 */
export function jsonValueProblem(value: unknown, path: string): string | undefined {
  const fault = findFault(value);
  return fault && describe(fault, path);
}

/** Throws MessageValidationError, naming the place, if JSON cannot carry `value` exactly. */
export function assertJsonValue(value: unknown, path: string): void {
  const problem = jsonValueProblem(value, path);
  if (problem !== undefined) throw new MessageValidationError(problem);
}

/** What is wrong, and where: the path is built on the way back up, and only then. */
interface Fault {
  /** What was found, as the subject of "… cannot travel as JSON". */
  what: string;
  /** Why it matters, when JSON would not refuse it but change it. */
  note: string;
  /** Steps (`.key`, `[3]`) from the root to the fault, filled in on the way back up. */
  steps: string;
  /** Only containers at a depth below this add their step: the rest of a cycle or of a too-deep chain is left out. */
  keepAbove: number;
  /** A cycle: the depth of the container it leads back to. */
  backTo?: number;
  /** A cycle: how much of `steps` leads from that container to the fault. */
  backLength?: number;
  /** The path was cut short (too deep). */
  cut?: boolean;
}

/** The containers on the way down from the root, by depth: a repeat is a cycle. */
interface Walk {
  ancestors: (object | undefined)[];
  /** Highest depth written, so the references can be dropped afterwards. */
  deepest: number;
}

// Reused: the walk is synchronous. A getter that starts a walk of its own
// during one gets a fresh state.
const shared: Walk = { ancestors: [], deepest: -1 };
let walking = false;

const NULL_NOTE = " (it would arrive as null)";
const { hasOwn, getPrototypeOf } = Object;
const objectTag = Object.prototype.toString;

function findFault(value: unknown): Fault | undefined {
  const walk = walking ? { ancestors: [], deepest: -1 } : shared;
  const outermost = !walking;
  walking = true;
  try {
    return visit(value, 0, walk);
  } catch (error) {
    // A getter or a proxy trap threw where no single property was being read.
    return fault(`a value whose reading threw (${errorText(error)})`);
  } finally {
    for (let depth = 0; depth <= walk.deepest; depth++) walk.ancestors[depth] = undefined;
    walk.deepest = -1;
    if (outermost) walking = false;
  }
}

/** `depth` is that of `value` if it is a container: the root is at 0. */
function visit(value: unknown, depth: number, walk: Walk): Fault | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "undefined": // left out by JSON; an array checks its items before calling this
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : fault(String(value), NULL_NOTE);
    case "bigint":
      return fault("BigInt");
    case "function":
      return fault("a function");
    case "symbol":
      return fault("a symbol");
  }
  return value === null ? undefined : visitObject(value as object, depth, walk);
}

function visitObject(object: object, depth: number, walk: Walk): Fault | undefined {
  if (depth >= MAX_JSON_DEPTH) return tooDeep(object, depth, walk);
  walk.ancestors[depth] = object;
  if (depth > walk.deepest) walk.deepest = depth;
  const isArray = Array.isArray(object);
  if (isArray ? !isPlainArray(object) : !isPlainObject(object)) return refused(object);
  if (typeof (object as { toJSON?: unknown }).toJSON === "function") {
    return fault("an object with a toJSON method", " (JSON would send what toJSON returns instead)");
  }
  return isArray ? visitItems(object as unknown[], depth, walk) : visitProperties(object as Record<string, unknown>, depth, walk);
}

function visitItems(array: unknown[], depth: number, walk: Walk): Fault | undefined {
  for (let i = 0; i < array.length; i++) {
    let problem: Fault | undefined;
    if (!(i in array)) {
      problem = fault("a hole in a sparse array", NULL_NOTE);
    } else {
      let item: unknown;
      try {
        item = array[i];
      } catch (error) {
        return within(fault(`an item whose reading threw (${errorText(error)})`), `[${i}]`, depth);
      }
      problem = item === undefined ? fault("undefined in an array", NULL_NOTE) : visit(item, depth + 1, walk);
    }
    if (problem) return within(problem, `[${i}]`, depth);
  }
  return undefined;
}

function visitProperties(object: Record<string, unknown>, depth: number, walk: Walk): Fault | undefined {
  // for…in, not Object.keys: no array of keys is made. It also lists
  // inherited enumerable keys (a polluted Object.prototype), which JSON skips.
  for (const key in object) {
    if (!hasOwn(object, key)) continue;
    let item: unknown;
    try {
      item = object[key];
    } catch (error) {
      return within(fault(`a property whose reading threw (${errorText(error)})`), keyStep(key), depth);
    }
    const problem = visit(item, depth + 1, walk);
    if (problem) return within(problem, keyStep(key), depth);
  }
  return undefined;
}

/** An object literal or `Object.create(null)`, from this realm or another (a REPL's vm context). */
function isPlainObject(object: object): boolean {
  const proto: unknown = getPrototypeOf(object);
  if (proto === Object.prototype || proto === null) return true;
  return typeof proto === "object" && getPrototypeOf(proto) === null && hasOwn(proto, "hasOwnProperty");
}

/** An array, not an instance of a subclass; any realm's Array.prototype is itself an array. */
function isPlainArray(array: object): boolean {
  const proto: unknown = getPrototypeOf(array);
  return proto === Array.prototype || Array.isArray(proto);
}

/** The container at `depth` would be one level too many: a cycle, or merely too deep. */
function tooDeep(object: object, depth: number, walk: Walk): Fault {
  walk.ancestors[depth] = object;
  if (depth > walk.deepest) walk.deepest = depth;
  // The first container met twice on the way down is where the cycle closes.
  const firstSeen = new Map<object, number>();
  for (let at = 0; at <= depth; at++) {
    const ancestor = walk.ancestors[at] as object;
    const earlier = firstSeen.get(ancestor);
    if (earlier !== undefined) return { ...fault("a reference back to its own container (a cycle)"), keepAbove: at, backTo: earlier };
    firstSeen.set(ancestor, at);
  }
  return { ...fault(`nesting deeper than ${MAX_JSON_DEPTH} levels`), keepAbove: 8, cut: true };
}

function fault(what: string, note = ""): Fault {
  return { what, note, steps: "", keepAbove: Infinity };
}

/** Adds the step the container at `depth` took towards the fault. */
function within(problem: Fault, step: string, depth: number): Fault {
  if (depth < problem.keepAbove) problem.steps = step + problem.steps;
  if (depth === problem.backTo) problem.backLength = problem.steps.length;
  return problem;
}

function describe(problem: Fault, path: string): string {
  const where = joinPath(path, problem.steps) + (problem.cut ? "…" : "");
  let what = problem.what;
  if (problem.backTo !== undefined) {
    const back = joinPath(path, problem.steps.slice(0, problem.steps.length - (problem.backLength ?? 0)));
    what = `a reference back to ${back || "the value itself"} (a cycle)`;
  }
  const sentence = `${what} cannot travel as JSON${problem.note}`;
  return where === "" ? sentence : `${where}: ${sentence}`;
}

function joinPath(path: string, steps: string): string {
  return path === "" && steps.startsWith(".") ? steps.slice(1) : path + steps;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function keyStep(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** `Map`, `Uint8Array`, …: named by their tag; instances of other classes by their class. */
function refused(object: object): Fault {
  const tag = objectTag.call(object).slice(8, -1);
  if (tag !== "Object" && tag !== "Array") return fault(tag);
  let name: unknown;
  try {
    name = (object as { constructor?: { name?: unknown } }).constructor?.name;
  } catch {
    name = undefined;
  }
  const what = typeof name === "string" && name !== "" ? `an instance of ${name}` : "an instance of a class";
  return fault(what, " (only plain objects and arrays can)");
}

function errorText(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return "an error that could not be read";
  }
}
