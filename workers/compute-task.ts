/**
 * A thread of the CPU pool: runs a task module's default export, or an
 * `offload` action of an agent class on a bare instance (no agent state).
 */
import type { ComputeTask } from "../src/compute-request.js";
import { actionsOf } from "../src/action.js";
import { exportedClass } from "../src/exported-class.js";

export default async function run(task: ComputeTask): Promise<unknown> {
  const module = (await import(task.moduleUrl)) as Record<string, unknown>;
  if (task.kind === "task") {
    if (typeof module.default !== "function") throw new TypeError(`${task.moduleUrl} has no default export function to run`);
    return (module.default as (input: unknown) => unknown)(task.input);
  }
  const Cls = exportedClass<{ prototype: object }>(module, task.className, task.moduleUrl);
  // Only an `offload` action of the class, looked up among its actions: the name came from another thread.
  const spec = actionsOf(Cls.prototype).get(task.action);
  if (!spec?.offload) throw new TypeError(`no offload action "${task.action}" on ${task.className} in ${task.moduleUrl}`);
  return spec.method.call(Object.create(Cls.prototype), task.args);
}
