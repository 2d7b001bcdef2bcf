/**
 * Just enough reading of TypeScript source for the REPL: where each
 * top-level class declaration begins and ends, which static imports a line
 * holds, and which names an input declares. Line-based by design: a REPL
 * input is short, and what this misses is evaluated as typed.
 */

export interface ClassDeclaration {
  name: string;
  /** Its text, decorators included. */
  source: string;
  start: number;
  end: number;
}

const identifier = "[A-Za-z_$][\\w$]*";
/** A class declaration at the start of a line (after decorators, `export`, `abstract`). */
const classStart = new RegExp(`^((?:@[^\\n]*\\s+)*)(?:export\\s+)?(?:abstract\\s+)?class\\s+(${identifier})`, "gm");

/** The top-level class declarations of `input`, in order. */
export function classDeclarations(input: string): ClassDeclaration[] {
  const found: ClassDeclaration[] = [];
  for (const match of input.matchAll(classStart)) {
    const start = match.index;
    if (found.some((declaration) => start < declaration.end)) continue; // a class inside one already found
    const open = input.indexOf("{", start + match[0].length);
    const end = open < 0 ? -1 : closingBrace(input, open);
    if (end < 0) continue; // incomplete: the transform reports it
    found.push({ name: match[2]!, source: input.slice(start, end + 1), start, end: end + 1 });
  }
  return found;
}

/** The index of the `}` that closes the `{` at `open`, skipping strings and comments; -1 if none. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const char = text[i]!;
    if (char === "'" || char === '"' || char === "`") i = stringEnd(text, i);
    else if (char === "/" && text[i + 1] === "/") i = lineEnd(text, i);
    else if (char === "/" && text[i + 1] === "*") i = text.indexOf("*/", i + 2) < 0 ? text.length : text.indexOf("*/", i + 2) + 1;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return i;
  }
  return -1;
}

function stringEnd(text: string, at: number): number {
  const quote = text[at];
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return text.length;
}

function lineEnd(text: string, at: number): number {
  const end = text.indexOf("\n", at);
  return end < 0 ? text.length : end;
}

/** The text with string literals and comments blanked out (template text included): what is left is code. */
export function codeOnly(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    let skipTo = -1;
    if (char === "'" || char === '"' || char === "`") skipTo = stringEnd(text, i);
    else if (char === "/" && text[i + 1] === "/") skipTo = lineEnd(text, i) - 1;
    else if (char === "/" && text[i + 1] === "*") skipTo = text.indexOf("*/", i + 2) < 0 ? text.length : text.indexOf("*/", i + 2) + 1;
    if (skipTo < 0) out += char;
    else {
      out += " ";
      i = skipTo;
    }
  }
  return out;
}

/** A static import on one line: `import { a, b as c } from "x";`, `import d from "x"`, `import * as ns from "x"`. */
export interface StaticImport {
  /** The line as typed. */
  statement: string;
  specifier: string;
  /** What it binds: default name, namespace name, and `imported as local` pairs. */
  defaultName?: string;
  namespace?: string;
  named: Array<{ imported: string; local: string }>;
  typeOnly: boolean;
}

const importLine = /^[ \t]*import\s+(type\s+)?([^'";]+?)\s+from\s+(['"])([^'"]+)\3[ \t]*;?[ \t]*$/gm;

/** The single-line static imports of `input`, with where each stands. */
export function staticImports(input: string): Array<StaticImport & { start: number; end: number }> {
  const found: Array<StaticImport & { start: number; end: number }> = [];
  for (const match of input.matchAll(importLine)) {
    const clause = match[2]!.trim();
    const parsed: StaticImport = { statement: match[0].trim(), specifier: match[4]!, named: [], typeOnly: match[1] !== undefined };
    const namespace = /\*\s*as\s+([A-Za-z_$][\w$]*)/.exec(clause);
    if (namespace) parsed.namespace = namespace[1]!;
    const braces = /\{([^}]*)\}/.exec(clause);
    if (braces) {
      for (const part of braces[1]!.split(",")) {
        const [imported, local] = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/);
        if (imported && !part.trim().startsWith("type ")) parsed.named.push({ imported, local: local ?? imported });
      }
    }
    const defaultName = /^([A-Za-z_$][\w$]*)\s*(,|$)/.exec(clause);
    if (defaultName) parsed.defaultName = defaultName[1]!;
    found.push({ ...parsed, start: match.index, end: match.index + match[0].length });
  }
  return found;
}

/** The names a static import binds. */
export function importedNames(imported: StaticImport): string[] {
  return [imported.defaultName, imported.namespace, ...imported.named.map(({ local }) => local)].filter((name): name is string => !!name);
}

const declaration = new RegExp(`^(?:export\\s+)?(?:const|let|var|async\\s+function\\*?|function\\*?|class)\\s+(${identifier})`, "gm");
const destructured = /^(?:const|let|var)\s*[{[]([^=]*)[}\]]\s*=/gm;

/** The names `input` declares at its top level (as far as a line-start reading tells). */
export function declaredNames(input: string): string[] {
  const names = [...input.matchAll(declaration)].map((match) => match[1]!);
  for (const match of input.matchAll(destructured)) {
    for (const part of match[1]!.split(",")) {
      const name = /([A-Za-z_$][\w$]*)\s*(?:=[^,]*)?$/.exec(part.trim())?.[1];
      if (name) names.push(name);
    }
  }
  return names;
}

/** Whether the code of `source` uses `name` as a variable (not as a property, nor inside a string). */
export function usesName(source: string, name: string): boolean {
  const escaped = name.replace(/\$/g, "\\$");
  return new RegExp(`(?<![\\w$.#])${escaped}(?![\\w$])(?!\\s*:[^:])`).test(codeOnly(source));
}
