/**
 * The class named `className` among a module's exports (a bundle may export
 * it under another name, or as its default): how a worker finds the agent
 * class it was told to load.
 */
export function exportedClass<T>(module: Record<string, unknown>, className: string, moduleUrl: string): T {
  const candidates = [module[className], module.default, ...Object.values(module)];
  const found = candidates.find((value) => typeof value === "function" && value.name === className);
  if (!found) throw new Error(`${moduleUrl} does not export a class named "${className}": export it`);
  return found as T;
}
