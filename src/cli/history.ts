import { writeFile } from "node:fs/promises";
import { classDeclarations, staticImports } from "./source-scan.js";

/** One input of the session, as typed (TypeScript), or a command made into code. */
export type HistoryEntry = { input: string };

/**
 * The session's inputs as a module `agentspace run` replays: the session's
 * imports and the classes typed (each exported, with its module, so
 * workers load it) at the top, every other input in order inside
 * `main(space)`, where `me` is a foreground agent as in the REPL.
 */
export function historyScript(entries: HistoryEntry[], moduleClasses: Map<string, string>): string {
  const imports: string[] = [];
  const classes = new Map<string, string>();
  const body: string[] = [];
  for (const { input } of entries) {
    let rest = input;
    for (const imported of [...staticImports(rest)].reverse()) {
      if (!imports.includes(imported.statement)) imports.push(imported.statement);
      rest = rest.slice(0, imported.start) + rest.slice(imported.end);
    }
    for (const declaration of [...classDeclarations(rest)].reverse()) {
      classes.delete(declaration.name); // typed again: the last version stands, in its place
      classes.set(declaration.name, declaration.source);
      rest = rest.slice(0, declaration.start) + rest.slice(declaration.end);
    }
    // Each ends its statement: a next line starting with ( or [ must not continue it.
    if (rest.trim()) body.push(rest.trim().endsWith(";") ? rest.trim() : `${rest.trim()};`);
  }
  const typed = [...classes.keys()];
  return [
    `// An agentspace REPL session, saved by .history. Replay it: npx agentspace run <this file> [--debug]`,
    `import * as agentspace from "agentspace";`,
    `import { Agent, action, loop, timer, sleep } from "agentspace";`,
    ...[...moduleClasses].map(([name, path]) => `import { ${name} } from ${JSON.stringify(path)};`),
    ...imports,
    "",
    ...[...classes.values()].flatMap((source) => [source, ""]),
    ...typed.map((name) => `Object.defineProperty(${name}, "module", { value: import.meta.url });`),
    typed.length > 0 ? `export { ${typed.join(", ")} };\n` : "",
    `export async function main(space: agentspace.Space): Promise<void> {`,
    `  const me = await space.addForeground(Agent, "me");`,
    ...body.flatMap((input) => input.split("\n").map((line) => `  ${line}`)),
    `}`,
    "",
  ].join("\n");
}

export async function saveHistory(file: string, entries: HistoryEntry[], moduleClasses: Map<string, string>): Promise<void> {
  await writeFile(file, historyScript(entries, moduleClasses));
}
