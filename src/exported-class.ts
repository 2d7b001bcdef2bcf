/**
 * The class named `className` among a module's exports (a bundle may export
 * it under another name, or as its default): how a host finds the agent
 * class it was told to load.
 */
export function exportedClass<T>(module: Record<string, unknown>, className: string, moduleUrl: string): T {
  const candidates = [module[className], module.default, ...Object.values(module)];
  const named = (value: unknown, name: string) => typeof value === "function" && value.name === name;
  // The decorator transform (esbuild's, vitest's) renames a class that names itself in its body `_Account`,
  // in one thread and maybe not in the other: the leading underscores are not part of the name.
  const bare = className.replace(/^_+/, "");
  const found =
    candidates.find((value) => named(value, className)) ??
    candidates.find((value) => typeof value === "function" && value.name.replace(/^_+/, "") === bare) ??
    (module[bare] !== undefined && typeof module[bare] === "function" ? module[bare] : undefined);
  if (!found) throw new Error(`${moduleUrl} does not export a class named "${className}": export it`);
  return found as T;
}

/** Classes found, by module URL and name: a thread that starts thousands of agents of one class imports its module once. */
const loaded = new Map<string, Promise<unknown>>();

/** Imports `moduleUrl` and finds its class `className` (see exportedClass). */
export function loadClass<T>(moduleUrl: string, className: string): Promise<T> {
  const key = `${className}@${moduleUrl}`;
  let found = loaded.get(key);
  if (!found) {
    found = import(moduleUrl).then((module: Record<string, unknown>) => exportedClass<T>(module, className, moduleUrl));
    loaded.set(key, found);
    found.catch(() => loaded.delete(key)); // a failure is not remembered: the next start tries again
  }
  return found as Promise<T>;
}
