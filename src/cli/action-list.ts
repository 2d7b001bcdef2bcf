import type { HelpEntry } from "../index.js";

/**
 * An agent's `help` answer as lines a person reads: one action a line, its
 * signature, then its description in a column.
 *
 *     add({ a: number, b: number }) → number  Add two numbers
 */
export function formatActions(entries: Record<string, HelpEntry>): string[] {
  const rows = Object.entries(entries).map(([name, entry]) => [signature(name, entry), entry.description ?? ""] as const);
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, description]) => (description ? `${left.padEnd(width)}  ${description}` : left));
}

function signature(name: string, entry: HelpEntry): string {
  const args = Object.entries(entry.args ?? {}).map(([arg, help]) => (help.type ? `${arg}: ${help.type}` : arg));
  const returns = entry.returns?.type ? ` → ${entry.returns.type}` : "";
  return `${name}(${args.length > 0 ? `{ ${args.join(", ")} }` : ""})${returns}`;
}
