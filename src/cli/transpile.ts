import { isAbsolute, resolve } from "node:path";
import { Recoverable } from "node:repl";
import { classDeclarations, staticImports, type ClassDeclaration, type StaticImport } from "./source-scan.js";

/** One REPL input made into JavaScript the REPL's own evaluation runs (top-level await and all). */
export interface Transpiled {
  code: string;
  /** The top-level classes it declares, as typed. */
  classes: ClassDeclaration[];
  /** Its static imports, each now a dynamic import, their specifiers as the session resolves them. */
  imports: StaticImport[];
}

/** What a REPL input's static import of a file goes through: the same bundling as a module given on the command line. */
export const loadFileName = "__agentspace_load";

/**
 * TypeScript and standard decorators in, JavaScript out (esbuild's
 * transform). Static imports become dynamic ones (the REPL cannot run
 * them as typed). Each class is built inside a function of its own: the
 * helpers esbuild lowers decorators with would otherwise be shared by every
 * class of the session; and declared with `var`, so it can be typed again.
 * Throws Recoverable while the input is incomplete (the REPL asks for more
 * lines), and SyntaxError when it is wrong. Synchronous: the REPL must know
 * at once whether a line is complete, before it reads the next.
 */
export type Transpile = (input: string, cwd?: string) => Transpiled;

/** Loads esbuild, then transpiles synchronously. */
export async function loadTranspiler(): Promise<Transpile> {
  const esbuild = await import("esbuild");
  return (input, cwd = process.cwd()) => {
    const { code: withoutImports, imports } = dynamicImports(input, cwd);
    const classes = classDeclarations(withoutImports);
    let code = withoutImports;
    for (const { name, source, start, end } of [...classes].reverse()) {
      code = `${code.slice(0, start)}var ${name} = (() => {\n${source}\nreturn ${name};\n})();${code.slice(end)}`;
    }
    return { code: transform(esbuild.transformSync, code), classes, imports };
  };
}

type TransformSync = (typeof import("esbuild"))["transformSync"];

function transform(esbuildTransform: TransformSync, code: string): string {
  const options = { loader: "ts", target: "node20", logLevel: "silent", keepNames: true } as const;
  // `{ a: 1 }` alone is an object, as in Node's own REPL, not a block.
  if (/^\s*\{/.test(code) && /\}\s*;?\s*$/.test(code)) {
    try {
      return esbuildTransform(`(${code.replace(/;\s*$/, "")})`, options).code;
    } catch {
      // not an object: a block
    }
  }
  try {
    return esbuildTransform(code, options).code;
  } catch (error) {
    const first = (error as { errors?: Array<{ text: string; location?: { line: number; column: number } | null }> }).errors?.[0];
    if (!first) throw error;
    if (/end of file|Unterminated template/.test(first.text)) throw new Recoverable(new SyntaxError(first.text));
    const where = first.location ? ` (line ${first.location.line}, column ${first.location.column + 1})` : "";
    throw new SyntaxError(`${first.text}${where}`);
  }
}

function dynamicImports(input: string, cwd: string): { code: string; imports: StaticImport[] } {
  const found = staticImports(input);
  const imports: StaticImport[] = [];
  let code = input;
  for (const imported of [...found].reverse()) {
    const specifier = isFile(imported.specifier) ? resolve(cwd, imported.specifier) : imported.specifier;
    const resolved = { ...imported, specifier, statement: imported.statement.replace(imported.specifier, specifier) };
    if (!imported.typeOnly) imports.unshift(resolved);
    code = `${code.slice(0, imported.start)}${imported.typeOnly ? "" : asDynamic(resolved)}${code.slice(imported.end)}`;
  }
  return { code, imports };
}

function isFile(specifier: string): boolean {
  return specifier.startsWith(".") || isAbsolute(specifier) || specifier.startsWith("file:");
}

function asDynamic({ specifier, defaultName, namespace, named }: StaticImport): string {
  const loaded = isFile(specifier) ? `await ${loadFileName}(${JSON.stringify(specifier)})` : `await import(${JSON.stringify(specifier)})`;
  const parts = named.map(({ imported, local }) => (imported === local ? local : `${imported}: ${local}`));
  if (defaultName) parts.unshift(`default: ${defaultName}`);
  const lines: string[] = [];
  if (namespace) lines.push(`var ${namespace} = ${loaded};`);
  if (parts.length > 0) lines.push(namespace ? `var { ${parts.join(", ")} } = ${namespace};` : `var { ${parts.join(", ")} } = ${loaded};`);
  return lines.join(" ");
}
