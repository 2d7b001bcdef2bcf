import type { ActionOptions } from "../action.js";

/**
 * Actions defined on a running agent (`space.defineAction`). They live on a
 * prototype layer of that one instance, between it and its class, so that
 * `help`, handles and the mailbox find them as they find any action, and a
 * reload can carry them to the next instance. The layer is rebuilt on each
 * definition: actions are collected once per prototype.
 *
 * The code is a string because it runs inside the agent's thread through
 * the `eval` action; the space's thread runs the very same text to carry the
 * actions over a reload in this thread.
 */
export const layerSource = `(agent, added) => {
  const DEFINED = Symbol.for("agentspace.definedActions");
  const ACTION = Symbol.for("agentspace.action");
  let base = Object.getPrototypeOf(agent);
  const defined = new Map(Object.hasOwn(base, DEFINED) ? base[DEFINED] : []);
  if (Object.hasOwn(base, DEFINED)) base = Object.getPrototypeOf(base);
  for (const [name, entry] of added) {
    if (name === "constructor" || ["help", "inspect", "eval"].includes(name)) throw new TypeError(\`"\${name}" cannot be defined: the name is taken\`);
    const existing = base[name];
    if (existing !== undefined && !(typeof existing === "function" && existing[ACTION])) {
      throw new TypeError(\`"\${name}" is already a member of agent "\${agent.id}" that is not an action\`);
    }
    if (typeof entry.method !== "function") throw new TypeError(\`the source of "\${name}" must be a function, not \${typeof entry.method}\`);
    defined.set(name, entry);
  }
  const layer = Object.create(base);
  Object.defineProperty(layer, DEFINED, { value: defined });
  for (const [name, { method, options }] of defined) {
    const invoke = function (args) { return method.call(this, args); };
    Object.defineProperty(invoke, ACTION, { value: options });
    Object.defineProperty(layer, name, { value: invoke, writable: true, configurable: true });
  }
  Object.setPrototypeOf(agent, layer);
  return [...defined.keys()];
}`;

const DEFINED = Symbol.for("agentspace.definedActions");

interface DefinedAction {
  method: (args: unknown) => unknown;
  options: ActionOptions;
}

/** Runs in the agent (the body of an `eval`): defines action `name` from `source`, a function's source text. */
export function defineActionCode(name: string, source: string, options: ActionOptions): string {
  return `return (${layerSource})(this, [[${JSON.stringify(name)}, { method: (${source}\n), options: ${JSON.stringify(options)} }]]);`;
}

let applyLayer: ((agent: object, added: Array<[string, DefinedAction]>) => string[]) | undefined;

/** Gives `fresh` the actions defined on `old` whose names its class does not define. */
export function carryDefinedActions(old: object, fresh: object): void {
  const layer = Object.getPrototypeOf(old) as Record<symbol, unknown>;
  if (!Object.hasOwn(layer, DEFINED)) return;
  const kept = [...(layer[DEFINED] as Map<string, DefinedAction>)].filter(([name]) => !(name in fresh));
  if (kept.length === 0) return;
  applyLayer ??= new Function(`return ${layerSource};`)() as typeof applyLayer;
  applyLayer!(fresh, kept);
}

const actionName = /^[A-Za-z_$][\w$]*$/;

/** Why `name` and `source` cannot make an action, or undefined. */
export function definitionProblem(name: unknown, source: unknown): string | undefined {
  if (typeof name !== "string" || !actionName.test(name)) return `an action's name must be an identifier, not ${JSON.stringify(name)}`;
  if (typeof source !== "string" || source.trim() === "") return `the source of "${name}" must be a function's source text`;
  return undefined;
}
