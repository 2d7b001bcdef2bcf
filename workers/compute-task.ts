/**
 * A thread of the CPU pool: runs a task module's default export, or an
 * `offload` action of an agent class on a bare instance (no agent state).
 */
import type { ComputeTask } from "../src/compute.js";
import { exportedClass } from "../src/exported-class.js";

export default async function run(task: ComputeTask): Promise<unknown> {
  const module = (await import(task.moduleUrl)) as Record<string, unknown>;
  if (task.kind === "task") {
    if (typeof module.default !== "function") throw new TypeError(`${task.moduleUrl} has no default export function to run`);
    return (module.default as (input: unknown) => unknown)(task.input);
  }
  const Cls = exportedClass<{ prototype: Record<string, unknown> }>(module, task.className, task.moduleUrl);
  const method = Cls.prototype[task.action];
  if (typeof method !== "function") throw new TypeError(`no action "${task.action}" on ${task.className} in ${task.moduleUrl}`);
  return method.call(Object.create(Cls.prototype), task.args);
}
