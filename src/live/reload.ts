import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleModule } from "../bundle.js";
import { exportedClass } from "../exported-class.js";
import type { AgentClass } from "../space.js";
import { ReloadError } from "./swap.js";

/** What `space.reload` takes: a module's URL or path, or an agent class (its `static module`). */
export type ReloadTarget = string | URL | AgentClass;

/** What `space.reload` resolves with. */
export interface ReloadReport {
  /** The source module reloaded, as a file: URL. */
  module: string;
  /** The agents now running its new code. */
  agents: string[];
}

/** The new version of a source module, bundled for loading. */
export interface NextVersion {
  sourceModule: string;
  /** The bundle's file: URL, made unique per build: a thread that loaded an older build loads this one anew. */
  bundleUrl: string;
}

/** A member of a space that can swap its running instance for a new version of its class. */
export interface Reloadable {
  /** The source module (a file: URL) its class comes from; undefined: it cannot be reloaded. */
  readonly sourceModule?: string | undefined;
  reload?(next: NextVersion): Promise<void>;
}

/** The source module `target` names, as a file: URL. */
export function moduleUrlOf(target: ReloadTarget): string {
  if (target instanceof URL) return target.href;
  if (typeof target === "function") {
    if (!Object.hasOwn(target, "module") || typeof target.module !== "string") {
      throw new TypeError(`${target.name} has no static module of its own to reload: add \`static module = import.meta.url;\``);
    }
    return target.module;
  }
  if (typeof target !== "string" || target === "") throw new TypeError("reload takes a module URL or path, or an agent class");
  return target.startsWith("file:") ? target : pathToFileURL(resolve(target)).href;
}

/** Per check of a bundle (bundleModule hands out one promise per check): its build-named URL, read once. */
const versions = new WeakMap<Promise<string>, Promise<NextVersion>>();

/** The module bundled afresh (or taken from the cache if unchanged), its URL naming this very build. */
export function nextVersion(sourceModule: string, recheck = false): Promise<NextVersion> {
  const bundle = bundleModule(sourceModule, { recheck });
  let version = versions.get(bundle);
  if (!version) {
    version = bundle.then(async (url) => ({ sourceModule, bundleUrl: `${url}?build=${(await stat(fileURLToPath(url))).mtimeMs}` }));
    versions.set(bundle, version);
  }
  return version;
}

/** The class `className` of a bundle, loaded in this thread. */
export async function classOf<T>(bundleUrl: string, className: string): Promise<T> {
  const module = (await import(bundleUrl)) as Record<string, unknown>;
  return exportedClass<T>(module, className, bundleUrl);
}

/**
 * Swaps every member whose class comes from `target`'s module to its new
 * version, all at once. Rejects with a ReloadError naming each agent that
 * kept its old version and why, once every swap has ended.
 */
export async function reloadMembers(members: Iterable<[string, Reloadable]>, target: ReloadTarget): Promise<ReloadReport> {
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
