/** The action may be invoked by any message (the default). */
export const ACCESS_PERMITTED = "permitted";
/** The action is never invoked by a message, and `help` leaves it out. */
export const ACCESS_DENIED = "denied";
/** Each message must be allowed by the agent's `requestPermission(message)`. */
export const ACCESS_REQUESTED = "requested";

export type AccessPolicy = typeof ACCESS_PERMITTED | typeof ACCESS_DENIED | typeof ACCESS_REQUESTED;

export interface ArgHelp {
  type?: string;
  description?: string;
}

export interface ActionHelp {
  description?: string;
  args?: Record<string, ArgHelp>;
  returns?: ArgHelp;
}

export interface ActionOptions {
  /** A description, or the full help entry returned by the built-in `help` action. */
  help?: string | ActionHelp;
  access?: AccessPolicy;
  /**
   * Run the action on the space's CPU pool instead of in the agent's
   * thread, so the agent keeps taking messages meanwhile. The method then
   * runs on a bare instance: it must depend on its arguments only.
   */
  offload?: boolean;
}

/** One action of an agent class, as `help` describes it and the mailbox invokes it. */
export interface ActionSpec {
  name: string;
  method: (args: Record<string, unknown>) => unknown;
  access: AccessPolicy;
  /** Denied unless the space runs with `debug: true`. */
  debugOnly?: boolean;
  offload?: boolean;
  help: { description: string; args: Record<string, ArgHelp>; returns?: ArgHelp };
}

/** The entry `help` returns for each action. */
export type HelpEntry = ActionSpec["help"];

// Stored on the method itself, so that @action works whichever compiler
// lowered the decorator (esbuild, tsc, Babel), with or without decorator metadata.
const ACTION = Symbol.for("agentspace.action");

type Method = (this: unknown, args: never) => unknown;

function mark<M extends Method>(method: M, options: ActionOptions): M {
  Object.defineProperty(method, ACTION, { value: options });
  return method;
}

function isOptions(value: unknown): value is ActionOptions | undefined {
  return value === undefined || (typeof value === "object" && value !== null && typeof value !== "function");
}

/**
 * Marks a method as an action that messages may invoke. Works as `@action`
 * and `@action(options)`, as a standard (TC39) decorator or a legacy
 * (`experimentalDecorators`) one.
 */
export function action<M extends Method>(method: M, context: ClassMethodDecoratorContext): M;
export function action(options?: ActionOptions): <M extends Method>(method: M, context: ClassMethodDecoratorContext) => M;
export function action(target: object, key: string | symbol, descriptor: PropertyDescriptor): void;
export function action(first?: unknown, second?: unknown, third?: unknown): unknown {
  if (typeof first === "function") return mark(first as Method, {});
  if (third !== undefined && typeof (third as PropertyDescriptor).value === "function") {
    mark((third as PropertyDescriptor).value as Method, {}); // legacy decorator without options
    return undefined;
  }
  if (!isOptions(first)) throw new TypeError("@action takes an options object");
  const options = first ?? {};
  return (method: unknown, context: unknown, descriptor?: PropertyDescriptor) => {
    if (typeof method === "function") return mark(method as Method, options);
    if (descriptor && typeof descriptor.value === "function") mark(descriptor.value as Method, options);
    else throw new TypeError(`@action applies to methods, not to ${String(context)}`);
    return undefined;
  };
}

const specsByClass = new WeakMap<object, Map<string, ActionSpec>>();

/** The actions of an agent class (its own and inherited), computed once per class. */
export function actionsOf(prototype: object): Map<string, ActionSpec> {
  let specs = specsByClass.get(prototype);
  if (!specs) {
    specs = collect(prototype);
    specsByClass.set(prototype, specs);
  }
  return specs;
}

function collect(prototype: object): Map<string, ActionSpec> {
  const specs = new Map<string, ActionSpec>();
  // Walk from the base class down so that a subclass's override wins.
  const chain: object[] = [];
  for (let p: object | null = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) chain.unshift(p);
  for (const proto of chain) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = Object.getOwnPropertyDescriptor(proto, name)?.value as Method | undefined;
      const options = typeof method === "function" ? (method as unknown as Record<symbol, ActionOptions>)[ACTION] : undefined;
      if (options) specs.set(name, toSpec(name, method as ActionSpec["method"], options));
      else specs.delete(name); // an undecorated override is no longer an action
    }
  }
  return specs;
}

function toSpec(name: string, method: ActionSpec["method"], options: ActionOptions): ActionSpec {
  const help = typeof options.help === "string" ? { description: options.help } : (options.help ?? {});
  return {
    name,
    method,
    access: options.access ?? ACCESS_PERMITTED,
    ...(options.offload ? { offload: true } : {}),
    help: {
      description: help.description ?? "",
      args: help.args ?? {},
      ...(help.returns ? { returns: help.returns } : {}),
    },
  };
}
