import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { declaredNames, importedNames, usesName, type ClassDeclaration, type StaticImport } from "./source-scan.js";

/** What every class module imports, unless the session binds the name otherwise. */
const libraryNames = ["Agent", "action", "loop", "timer", "sleep"];

/** A REPL class's module, or why it has none. */
export type ClassModule = { url: string } | { problem: string };

/**
 * The classes typed into a REPL session, kept as source so that a worker
 * can load them: each becomes a module of its own, with the session's
 * imports, the modules' classes it uses, and the other session classes it
 * uses. A class that uses a session variable (a `const` typed at the
 * prompt, `space`, `me`) has no module: a worker cannot have that value.
 */
export class ReplClasses {
  #folder: string;
  #made: Promise<void> | undefined;
  /** Session classes by name, as last typed. */
  #classes = new Map<string, ClassDeclaration>();
  #imports: StaticImport[] = [];
  /** Names the session declared at the prompt: values only this process has. */
  #variables: Set<string>;
  /** Agent classes of the modules given on the command line: imported from their files. */
  #moduleClasses: Map<string, string>;

  /** `sessionNames`: what the session itself puts in scope; `moduleClasses`: class name → module path. */
  constructor(sessionNames: string[], moduleClasses: Map<string, string>, cwd = process.cwd()) {
    // Under the package the session runs in, so that the npm packages a class imports resolve as from there.
    const base = existsSync(join(cwd, "package.json")) ? join(cwd, "node_modules", ".cache", "agentspace-repl") : join(tmpdir(), "agentspace-repl");
    this.#folder = join(base, `session-${process.pid}-${Date.now()}`);
    this.#variables = new Set(sessionNames);
    this.#moduleClasses = moduleClasses;
  }

  /**
   * Takes what an input declared, once it ran: its imports, its variables,
   * and each class's module (written now), by class name.
   */
  async evaluated(input: string, classes: ClassDeclaration[], imports: StaticImport[]): Promise<Map<string, ClassModule>> {
    for (const imported of imports) {
      this.#imports = this.#imports.filter((earlier) => importedNames(earlier).every((name) => !importedNames(imported).includes(name)));
      this.#imports.push(imported);
      for (const name of importedNames(imported)) this.#variables.delete(name);
    }
    const classNames = new Set(classes.map(({ name }) => name));
    for (const name of declaredNames(input)) if (!classNames.has(name)) this.#variables.add(name);
    for (const declaration of classes) {
      this.#classes.set(declaration.name, declaration);
      this.#variables.delete(declaration.name);
    }
    const modules = new Map<string, ClassModule>();
    for (const { name } of classes) modules.set(name, await this.#moduleFor(name));
    return modules;
  }

  /** Removes the session's module files. */
  async dispose(): Promise<void> {
    if (this.#made) await rm(this.#folder, { recursive: true, force: true });
  }

  async #moduleFor(name: string): Promise<ClassModule> {
    const sources = this.#withDependencies(name);
    const code = sources.map(({ source }) => source).join("\n");
    const carried = new Set([...this.#imports.flatMap(importedNames), ...sources.map(({ name: used }) => used)]);
    const library = [...libraryNames, "agentspace"].filter((used) => !carried.has(used));
    for (const used of library) carried.add(used);
    const unreachable = [...this.#variables].filter((variable) => !carried.has(variable) && usesName(code, variable));
    if (unreachable.length > 0) {
      const names = unreachable.map((variable) => `\`${variable}\``).join(", ");
      return {
        problem:
          `${name} uses ${names}, typed at this prompt: a worker cannot have ${unreachable.length === 1 ? "that value" : "those values"}. ` +
          `Pass it in the agent's init, import it in the class's module, or use --space local`,
      };
    }
    const lines = [
      ...this.#imports.map(({ statement }) => statement),
      ...this.#libraryImport(library),
      ...[...this.#moduleClasses]
        .filter(([used]) => !carried.has(used) && usesName(code, used))
        .map(([used, path]) => `import { ${used} } from ${JSON.stringify(path)};`),
      code,
      `export { ${sources.map(({ name: exported }) => exported).join(", ")} };`,
    ];
    this.#made ??= mkdir(this.#folder, { recursive: true }).then(() => undefined);
    await this.#made;
    // One file per class name: typed again, the class keeps its module, so `space.reload(Cls)` swaps its running agents.
    const file = join(this.#folder, `${name}.ts`);
    await writeFile(file, `${lines.join("\n")}\n`);
    return { url: pathToFileURL(file).href };
  }

  #libraryImport(library: string[]): string[] {
    const names = library.filter((name) => name !== "agentspace");
    return [
      ...(library.includes("agentspace") ? [`import * as agentspace from "agentspace";`] : []),
      ...(names.length > 0 ? [`import { ${names.join(", ")} } from "agentspace";`] : []),
    ];
  }

  /** `name`'s declaration after those of the session classes it uses (and they use), each once. */
  #withDependencies(name: string, seen = new Set<string>()): ClassDeclaration[] {
    const declaration = this.#classes.get(name);
    if (!declaration || seen.has(name)) return [];
    seen.add(name);
    const before: ClassDeclaration[] = [];
    for (const other of this.#classes.keys()) {
      if (other !== name && usesName(declaration.source, other)) before.push(...this.#withDependencies(other, seen));
    }
    return [...before, declaration];
  }
}
