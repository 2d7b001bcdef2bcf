import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ownModule } from "../agent-class.js";
import { nextVersion } from "../bundle.js";
import { ReloadError } from "../errors.js";
import { internalsOf, type ReloadReport, type ReloadTarget } from "../extension.js";
import type { Member } from "../supervisor.js";

/** The source module `target` names, as a file: URL. */
export function moduleUrlOf(target: ReloadTarget): string {
  if (target instanceof URL) return target.href;
  if (typeof target === "function") {
    const module = ownModule(target);
    if (module === undefined) throw new TypeError(`${target.name} has no static module of its own to reload: add \`static module = import.meta.url;\``);
    return module;
  }
  if (typeof target !== "string" || target === "") throw new TypeError("reload takes a module URL or path, or an agent class");
  return target.startsWith("file:") ? target : pathToFileURL(resolve(target)).href;
}

/**
 * Swaps every member whose class comes from `target`'s module to its new
 * version, all at once. Rejects with a ReloadError naming each agent that
 * kept its old version and why, once every swap has ended.
 */
export async function reloadMembers(members: Iterable<[string, Member]>, target: ReloadTarget): Promise<ReloadReport> {
  const module = moduleUrlOf(target);
  const chosen = [...members].filter(([, member]) => member.sourceModule === module && member.reload);
  const next = await nextVersion(module, true);
  const outcomes = await Promise.allSettled(chosen.map(([, member]) => member.reload!(next)));
  const agents: string[] = [];
  const failures: string[] = [];
  outcomes.forEach((outcome, i) => {
    const id = chosen[i]![0];
    if (outcome.status === "fulfilled") agents.push(id);
    else failures.push((outcome.reason as Error).message);
  });
  if (failures.length > 0) {
    const done = agents.length > 0 ? `; ${agents.join(", ")} now run the new code` : "";
    throw new ReloadError(`reload of ${module} failed for ${failures.length} agent(s): ${failures.join("; ")}${done}`);
  }
  return { module, agents };
}

/** `space.reload(target)`: the agents of `space` in this process whose class comes from `target`'s module. */
export function reloadSpace(space: object, target: ReloadTarget): Promise<ReloadReport> {
  return reloadMembers(internalsOf(space).members(), target);
}
