import { readFile } from "node:fs/promises";

/**
 * The page's files, as shipped in the package: next to this module when
 * running from source, in dist/inspector/page/ when running the build (which
 * bundles this module into dist/index.js and copies the folder there).
 */
const fromSource = import.meta.url.endsWith(".ts");
const pageFolder = new URL(fromSource ? "./page/" : "./inspector/page/", import.meta.url);

/** Every file the page has, by the path it is served at; nothing else is ever read from disk. */
const files = new Map<string, string>([
  ["/", "index.html"],
  ["/style.css", "style.css"],
  ["/app.js", "app.js"],
  ["/dom.js", "dom.js"],
  ["/table.js", "table.js"],
  ["/trace.js", "trace.js"],
  ["/flow.js", "flow.js"],
  ["/detail.js", "detail.js"],
  ["/sparkline.js", "sparkline.js"],
  ["/nodes.js", "nodes.js"],
  ["/summary.js", "summary.js"],
]);

const contentTypes = new Map([
  ["html", "text/html; charset=utf-8"],
  ["css", "text/css; charset=utf-8"],
  ["js", "text/javascript; charset=utf-8"],
]);

export interface PageFile {
  body: Buffer;
  contentType: string;
}

/**
 * Reads the page's files once, with the token written where `__TOKEN__`
 * stands: the page's own links and imports then carry it, as every request
 * must. The token is URL-safe base64, so it needs no escaping there.
 */
export async function loadPage(token: string): Promise<Map<string, PageFile>> {
  const loaded = new Map<string, PageFile>();
  await Promise.all(
    [...files].map(async ([path, name]) => {
      const text = await readFile(new URL(name, pageFolder), "utf8");
      const contentType = contentTypes.get(name.slice(name.lastIndexOf(".") + 1)) ?? "application/octet-stream";
      loaded.set(path, { body: Buffer.from(text.replaceAll("__TOKEN__", token)), contentType });
    }),
  );
  return loaded;
}
