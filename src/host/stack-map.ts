import { SourceMap, type SourceMapPayload } from "node:module";
import { lazily } from "../node-builtin.js";

// Needed once a stack is read, not before.
const fs = lazily<typeof import("node:fs")>("node:fs");
const url = lazily<typeof import("node:url")>("node:url");

/**
 * Stack traces that name the source files (TypeScript, the library's own
 * sources) at no cost until a stack is read. Node's own source map support
 * reads and parses the map of every module as the module loads, used or
 * not: in a worker thread that is the library's map, a few hundred KB per
 * thread. V8 formats a stack only when `error.stack` is first read; this
 * maps its frames then, and loads a file's map on the first frame in it.
 */

/** Per generated file (as V8 names it): its map, or null when it has none. */
const maps = new Map<string, SourceMap | null>();

/** A source map comment, last in a file: inline (`data:`) or a file beside it. */
const MAP_COMMENT = /\/\/# sourceMappingURL=(\S+)\s*$/;

/**
 * Maps stack frames from here on in this thread (in place of Node's own
 * formatter, which writes frames as V8 does), unless Node maps them already
 * (`--enable-source-maps`).
 */
export function mapStacksLazily(): void {
  if (process.sourceMapsEnabled) return;
  Error.prepareStackTrace = (error, frames) => {
    let text = head(error);
    for (const frame of frames) text += `\n    at ${mapFrame(frame)}`;
    return text;
  };
}

/** The first line, as V8 writes it: "Name: message". */
function head(error: Error): string {
  try {
    return String(error);
  } catch {
    return "Error: (an error that could not be read)";
  }
}

function mapFrame(frame: NodeJS.CallSite): string {
  const text = frame.toString();
  const file = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if (!file || line === null || column === null) return text;
  const map = mapOf(file);
  if (!map) return text;
  const entry = map.findEntry(line - 1, column - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
  if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return text;
  const source = entry.originalSource.startsWith("file:") ? url().fileURLToPath(entry.originalSource) : entry.originalSource;
  return text.replace(`${file}:${line}:${column}`, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`);
}

function mapOf(file: string): SourceMap | null {
  let map = maps.get(file);
  if (map === undefined) {
    map = load(file);
    maps.set(file, map);
  }
  return map;
}

function load(file: string): SourceMap | null {
  if (!file.startsWith("file:") && !file.startsWith("/")) return null; // node: internals, eval code
  try {
    const location = file.startsWith("file:") ? new URL(file) : url().pathToFileURL(file);
    location.search = ""; // a build-named bundle (`?build=…`) is the same file
    const source = fs().readFileSync(location, "utf8");
    const comment = MAP_COMMENT.exec(source.slice(-4096))?.[1];
    if (!comment) return null;
    const mapUrl = new URL(comment, location);
    const json =
      mapUrl.protocol === "data:"
        ? Buffer.from(comment.slice(comment.indexOf(",") + 1), comment.includes(";base64,") ? "base64" : "utf8").toString("utf8")
        : fs().readFileSync(mapUrl, "utf8");
    const payload = JSON.parse(json) as SourceMapPayload;
    // Sources are named relative to the map: made absolute, so that frames name real files.
    payload.sources = payload.sources.map((name) => new URL(name, mapUrl.protocol === "data:" ? location : mapUrl).href);
    return new SourceMap(payload);
  } catch {
    return null;
  }
}
