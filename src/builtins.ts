import type { ActionSpec } from "./action.js";
import { assertCloneable } from "./message.js";

/**
 * Actions every agent has without declaring them. `inspect` and `eval` look
 * inside a running agent from outside (a REPL, a debugger); they are denied
 * unless the space was created with `debug`, and then answer only the callers
 * `debugRefusal` lets through.
 */

interface Describable {
  describeActions(actionName?: string): unknown;
}

const help: ActionSpec = {
  name: "help",
  method(this: unknown, args) {
    return (this as Describable).describeActions(args.action_name as string | undefined);
  },
  access: "permitted",
  help: {
    description: "Describes this agent's actions, or the one named by action_name",
    args: { action_name: { type: "string", description: "describe only this action" } },
  },
};

const inspect: ActionSpec = {
  name: "inspect",
  method(this: unknown) {
    return snapshot(this as object);
  },
  access: "permitted",
  debugOnly: true,
  help: { description: "A copy of the agent's own fields", args: {} },
};

const evaluate: ActionSpec = {
  name: "eval",
  async method(this: unknown, args) {
    return cloneable(await run(this, String(args.code ?? "")));
  },
  access: "permitted",
  debugOnly: true,
  help: {
    description: "Runs code with `this` bound to the agent and returns its value",
    args: { code: { type: "string", description: "an expression, or statements with a return" } },
  },
};

export const builtinActions = new Map([help, inspect, evaluate].map((spec) => [spec.name, spec]));

const AsyncFunction = (async () => {}).constructor as new (body: string) => (this: unknown) => Promise<unknown>;

/** An expression's value, or a function body's return value; `await` works in both. */
function run(self: unknown, code: string): Promise<unknown> {
  let compiled: (this: unknown) => Promise<unknown>;
  try {
    compiled = new AsyncFunction(`return (${code}\n);`);
  } catch {
    compiled = new AsyncFunction(code);
  }
  return compiled.call(self);
}

/** The agent's own fields, each a copy, or a description of what cannot be copied. */
function snapshot(agent: object): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(agent)) fields[key] = cloneable(value);
  return fields;
}

function cloneable(value: unknown): unknown {
  try {
    assertCloneable(value);
    return structuredClone(value);
  } catch {
    return `[${typeof value === "function" ? "function" : ((value as object)?.constructor?.name ?? typeof value)}]`;
  }
}
