/**
 * The class named `className` among a module's exports (a bundle may export
 * it under another name, or as its default): how a host finds the agent
 * class it was told to load.
 */
export function exportedClass<T>(module: Record<string, unknown>, className: string, moduleUrl: string): T {
  const candidates = [module[className], module.default, ...Object.values(module)];
  const found = candidates.find((value) => typeof value === "function" && value.name === className);
  if (!found) throw new Error(`${moduleUrl} does not export a class named "${className}": export it`);
  return found as T;
}

/** Imports `moduleUrl` and finds its class `className` (see exportedClass). */
export async function loadClass<T>(moduleUrl: string, className: string): Promise<T> {
  return exportedClass<T>((await import(moduleUrl)) as Record<string, unknown>, className, moduleUrl);
}
