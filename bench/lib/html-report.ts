/**
 * bench/results/report.html: every scenario's figures as charts, in one
 * page that opens from disk (uPlot, its stylesheet, the page's script and the
 * figures are all inlined; nothing is fetched).
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ScenarioResult } from "./results.js";

const require = createRequire(import.meta.url);
const PAGE_SCRIPT = fileURLToPath(new URL("./report-page.js", import.meta.url));

/** Every `<scenario>.json` in `dir`, in `order` (scenario names) first, then the rest by name. */
export async function readResults(dir: string, order: readonly string[] = []): Promise<ScenarioResult[]> {
  const files = (await readdir(dir)).filter((name) => name.endsWith(".json"));
  const results: ScenarioResult[] = [];
  for (const file of files) {
    try {
      const parsed = JSON.parse(await readFile(path.join(dir, file), "utf8")) as ScenarioResult;
      if (typeof parsed.scenario === "string" && Array.isArray(parsed.figures)) results.push(parsed);
    } catch {
      // Not a result file (or half-written by a run still going): not charted.
    }
  }
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  return results.sort((a, b) => rank(a.scenario) - rank(b.scenario) || a.scenario.localeCompare(b.scenario));
}

/** `</script>` inside inlined text would end the script element early. */
function scriptSafe(text: string): string {
  return text.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
}

export function renderHtml(results: readonly ScenarioResult[], libraries: { uplotJs: string; uplotCss: string; page: string }): string {
  const data = JSON.stringify({ results }).replace(/</g, "\\u003c");
  const generated = new Date().toISOString();
  const index = results.map((r) => `<a href="#${r.scenario}">${r.scenario}</a>`).join(" · ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>agentspace benchmarks</title>
<style>${libraries.uplotCss}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem auto; max-width: 1140px; color: #24292f; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2.5rem; border-bottom: 1px solid #d0d7de; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: 12px; } td, th { border: 1px solid #d0d7de; padding: 2px 6px; text-align: left; }
td.num { text-align: right; white-space: nowrap; } .meta, .note { color: #57606a; font-size: 12px; }
.target.met { color: #1a7f37; } .target.missed { color: #cf222e; font-weight: 600; } .error { color: #cf222e; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>agentspace benchmarks</h1>
<p class="meta">Generated ${generated}. Bars: the raw baseline (left) and agentspace (right), the ratio agentspace ÷ raw above each pair. Curves: log scales, raw baselines dashed. For throughput higher is better; for times lower is.</p>
<p>${index}</p>
<div id="charts"></div>
<script>${scriptSafe(libraries.uplotJs)}</script>
<script>const REPORT = ${data};</script>
<script>${scriptSafe(libraries.page)}</script>
</body>
</html>
`;
}

/** Writes `<dir>/report.html` from every result file in `dir`; returns its path. */
export async function writeHtmlReport(dir: string, order: readonly string[] = []): Promise<string> {
  const uplotDir = path.dirname(require.resolve("uplot/dist/uPlot.iife.min.js"));
  const [uplotJs, uplotCss, page, results] = await Promise.all([
    readFile(path.join(uplotDir, "uPlot.iife.min.js"), "utf8"),
    readFile(path.join(uplotDir, "uPlot.min.css"), "utf8"),
    readFile(PAGE_SCRIPT, "utf8"),
    readResults(dir, order),
  ]);
  const file = path.join(dir, "report.html");
  await writeFile(file, renderHtml(results, { uplotJs, uplotCss, page }));
  return file;
}
