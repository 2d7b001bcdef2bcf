/** bench/results/report.html: one page, opened from disk, with every scenario charted. */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseArgs } from "../bench/lib/args.js";
import { writeHtmlReport } from "../bench/lib/html-report.js";
import { writeResult, type ScenarioResult } from "../bench/lib/results.js";
import type { Figure } from "../bench/lib/scenario.js";

const machine = { cpus: 2, cpuModel: "test", memoryGb: 8, node: process.version, platform: process.platform } as unknown as ScenarioResult["machine"];

function figure(key: string, median: number, extra: Partial<Figure> = {}): Figure {
  return { key, label: key, unit: "msg/s", median, min: median, max: median, runs: [median], ...extra };
}

function result(scenario: string, figures: Figure[]): ScenarioResult {
  return { scenario, description: `${scenario} </script> <b>not markup</b>`, quick: true, runsPerFigure: 1, machine, durationMs: 10, figures, notes: ["a note"], targets: [] };
}

const curve = (x: number, series: string) => ({ curve: { chart: "router throughput against agents", series, x, xLabel: "agents" } });

describe("the benchmark report page", () => {
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "agentspace-report-"));
    await writeResult(dir, result("ports", [figure("direct-1", 300_000), figure("relay-1", 150_000, { vs: "direct-1", ratio: 0.5 }), figure("erlang-ring", 500_000)]));
    // A baseline that figures of another scenario are compared with.
    await writeResult(dir, result("savina", [figure("ring", 250_000, { vs: "ports/erlang-ring", ratio: 0.5 })]));
    await writeResult(dir, result("curves", [1, 100, 10_000].flatMap((x) => [
      figure(`router-raw-${x}`, 250_000, curve(x, "raw: port")),
      figure(`router-${x}`, 100_000 / Math.log10(x + 10), { vs: `router-raw-${x}`, ...curve(x, "ours") }),
    ])));
    file = await writeHtmlReport(dir, ["ports", "curves", "savina"]);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("is one self-contained file: the charting library, the script and the figures inlined, nothing to fetch", async () => {
    const html = await readFile(file, "utf8");
    expect(path.basename(file)).toBe("report.html");
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).toContain("uPlot");
    // A description with "</script>" in it must not end the data's script element early.
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain('<a href="#ports">ports</a>');
  });

  it("lets --report rewrite the page from the results there, and --max-agents cap the curves", () => {
    expect(parseArgs(["--report"])).toMatchObject({ report: true, names: [] });
    expect(parseArgs(["curves", "--max-agents", "1000"])).toMatchObject({ names: ["curves"], maxAgents: 1000 });
    expect(() => parseArgs(["--max-agents", "0"])).toThrow("--max-agents needs a positive integer");
  });

  const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  it.runIf(existsSync(chromiumPath))("draws every scenario from disk in Chromium: bars for ours against raw, lines for a curve", async () => {
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(String(error)));
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector("body[data-rendered]");
      expect(errors).toEqual([]);
      expect(await page.locator("#ports canvas").count()).toBe(1);
      expect(await page.locator("#curves canvas").count()).toBe(1);
      expect(await page.locator("#ports td", { hasText: "0.50×" }).count()).toBe(1);
      expect(await page.locator("#curves h3").textContent()).toBe("router throughput against agents");
      // A baseline on its own is a baseline, not agentspace; rows and bars are named, not numbered.
      const cells = await page.locator("#ports > table tr", { hasText: "erlang-ring" }).locator("td").allTextContents();
      expect(cells).toEqual(["erlang-ring", "", "500,000 msg/s", ""]);
      expect(await page.locator("#ports > table").textContent()).not.toContain("#1");
      // Legends name the series and show no empty value.
      expect(await page.locator("#ports .u-legend").textContent()).toMatch(/raw baseline.*agentspace/);
      expect(await page.locator("#ports .u-legend").textContent()).not.toContain("--");
    } finally {
      await browser.close();
    }
  }, 60_000);
});

describe("a target's verdict", () => {
  it("is met or MISSED after a full run, and not judged after a quick one", async () => {
    const { renderVerdict } = await import("../bench/lib/targets.js");
    const verdict = { figure: "f", of: "ratio" as const, atLeast: 0.5, text: "f ≥ 0.5×", value: 0.3, met: false };
    expect(renderVerdict(verdict)).toBe("target: f ≥ 0.5×: MISSED (f = 0.30×, needs ≥ 0.50×)");
    expect(renderVerdict(verdict, true)).toBe("target: f ≥ 0.5×: not judged: a quick run is one small run (f = 0.30×, needs ≥ 0.50×)");
  });
});
