import type { ActionOptions } from "../action.js";
import type { DebugMode } from "../debug-gate.js";
import { PermissionDeniedError } from "../errors.js";
import { internalsOf } from "../extension.js";
import type { Space } from "../space.js";
import { defineActionCode, definitionProblem } from "../host/defined-actions.js";

/**
 * `space.defineAction`: runs the definition inside agent `id` through the
 * built-in `eval` action, from a handle of this process, so it passes the
 * same gate as `eval`: a debug space only, and only from this process.
 * Resolves with the names of the actions defined on that agent so far.
 */
export async function defineAction(
  debug: DebugMode,
  evaluate: (code: string) => Promise<unknown>,
  id: string,
  name: string,
  source: string,
  options: ActionOptions,
): Promise<string[]> {
  if (debug === false) {
    throw new PermissionDeniedError(`defineAction runs code inside "${id}": only a space made with debug: true (or "remote") allows it`);
  }
  const problem = definitionProblem(name, source);
  if (problem) throw new TypeError(problem);
  if (typeof options !== "object" || options === null || options.offload) {
    throw new TypeError("defineAction takes the options of @action, without offload (a defined action has no module a pool thread could load)");
  }
  return (await evaluate(defineActionCode(name, source, options))) as string[];
}

/** `space.defineAction(…)`, through a handle of this process. */
export function defineOn(space: object, id: string, name: string, source: string, options: ActionOptions): Promise<string[]> {
  const evaluate = (code: string) => (space as Space).handle(id).eval({ code });
  return defineAction(internalsOf(space).debug, evaluate, id, name, source, options);
}
