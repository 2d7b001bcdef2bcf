// The report page's script (inlined into report.html with uPlot and the
// figures; plain browser JavaScript, no modules). Each scenario becomes one
// chart per unit: grouped bars, ours beside its raw baseline with the ratio
// written above; a curve's figures become lines (log scales), raw dashed.
/* global uPlot, REPORT */
(function () {
  const OURS = "#1f6feb";
  const RAW = "#9a6700";
  const PALETTE = [OURS, RAW, "#2da44e", "#cf222e", "#8250df", "#bf3989"];
  const root = document.getElementById("charts");

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "–";
    const a = Math.abs(v);
    if (a >= 100) return Math.round(v).toLocaleString("en-US");
    if (a >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }

  function width(section) {
    return Math.max(320, Math.min(section.clientWidth || 900, 1100));
  }

  function logWorthy(values) {
    const positive = values.filter((v) => v > 0);
    if (positive.length < 2) return false;
    return Math.max(...positive) / Math.min(...positive) > 30;
  }

  /** A bar's name under the axis: the figure's label, cut short (the table below has it whole). */
  function short(label) {
    return label.length <= 26 ? label : `${label.slice(0, 25)}…`;
  }

  /**
   * Grouped bars: per figure with a baseline, the baseline and ours; other
   * figures alone, a baseline (one some figure is compared with) as raw.
   */
  function barChart(section, unit, figures, byName, isBaseline) {
    const groups = [];
    const used = new Set();
    for (const f of figures) {
      if (f.vs === undefined) continue;
      const base = byName(f.vs);
      groups.push({ label: f.label, ours: f.median, raw: base ? base.median : null, rawLabel: base ? base.label : f.vs, ratio: f.ratio });
      if (base) used.add(base);
    }
    for (const f of figures) {
      if (f.vs !== undefined || used.has(f)) continue;
      if (isBaseline(f)) groups.push({ label: f.label, ours: null, raw: f.median, rawLabel: f.label, ratio: undefined });
      else groups.push({ label: f.label, ours: f.median, raw: null, rawLabel: "", ratio: undefined });
    }
    if (groups.length === 0) return;
    const xs = groups.map((_, i) => i);
    const ours = groups.map((g) => g.ours);
    const raw = groups.map((g) => g.raw);
    const log = logWorthy([...ours, ...raw].filter((v) => v !== null));
    const tilted = groups.length > 3;
    const holder = el("div", { class: "chart" });
    section.appendChild(holder);
    const bars = uPlot.paths.bars;
    const opts = {
      width: width(section),
      height: tilted ? 340 : 280,
      scales: { x: { time: false, range: [-0.6, groups.length - 0.4] }, y: log ? { distr: 3 } : { range: (u, min, max) => [0, max * 1.15] } },
      axes: [
        {
          values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) && t >= 0 && t < groups.length ? short(groups[t].label) : "")),
          splits: () => xs,
          ...(tilted ? { rotate: -30, size: 120 } : { size: 40 }),
        },
        { label: unit, size: 70 },
      ],
      // Names only: a bar chart has no point under the cursor to give a value for.
      legend: { show: true, live: false },
      series: [
        {},
        { label: "raw baseline", stroke: RAW, fill: RAW + "99", paths: bars({ size: [0.4, 80], align: -1 }), points: { show: false } },
        { label: "agentspace", stroke: OURS, fill: OURS + "99", paths: bars({ size: [0.4, 80], align: 1 }), points: { show: false } },
      ],
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = "#24292f";
            ctx.font = `${Math.round(11 * devicePixelRatio)}px sans-serif`;
            ctx.textAlign = "center";
            groups.forEach((g, i) => {
              if (g.ratio === undefined || g.ratio === null) return;
              const top = Math.max(g.ours ?? 0, g.raw ?? 0);
              const x = u.valToPos(i, "x", true);
              const y = u.valToPos(top, "y", true) - 6 * devicePixelRatio;
              ctx.fillText(`${g.ratio.toFixed(2)}×`, x, Math.max(y, 12 * devicePixelRatio));
            });
            ctx.restore();
          },
        ],
      },
    };
    new uPlot(opts, [xs, raw, ours], holder);
    const table = el("table");
    const head = el("tr");
    for (const h of ["figure", "agentspace", "raw baseline", "ratio"]) head.appendChild(el("th", {}, h));
    table.appendChild(head);
    groups.forEach((g) => {
      const row = el("tr");
      row.appendChild(el("td", { title: g.rawLabel }, g.label));
      row.appendChild(el("td", { class: "num" }, g.ours === null ? "" : `${fmt(g.ours)} ${unit}`));
      row.appendChild(el("td", { class: "num", title: g.rawLabel }, g.raw === null ? "" : `${fmt(g.raw)} ${unit}`));
      row.appendChild(el("td", { class: "num" }, g.ratio === undefined || g.ratio === null ? "" : `${g.ratio.toFixed(2)}×`));
      table.appendChild(row);
    });
    section.appendChild(table);
  }

  /** Lines: one per series of the chart, against x on a log scale; p99 (where measured) dashed. */
  function curveChart(section, title, figures) {
    const xs = [...new Set(figures.map((f) => f.curve.x))].sort((a, b) => a - b);
    const names = [...new Set(figures.map((f) => f.curve.series))];
    const series = [{}];
    const data = [xs];
    names.forEach((name, i) => {
      const color = name === "ours" ? OURS : PALETTE[(i + 1) % PALETTE.length];
      const of = figures.filter((f) => f.curve.series === name);
      const at = (x, pick) => {
        const f = of.find((g) => g.curve.x === x);
        return f ? pick(f) : null;
      };
      series.push({ label: name === "ours" ? "agentspace" : name, stroke: color, width: 2, dash: name === "ours" ? undefined : [6, 4] });
      data.push(xs.map((x) => at(x, (f) => f.median)));
      if (of.some((f) => f.p99 !== undefined)) {
        series.push({ label: `${name === "ours" ? "agentspace" : name} p99`, stroke: color, width: 1, dash: [2, 3] });
        data.push(xs.map((x) => at(x, (f) => (f.p99 === undefined ? null : f.p99))));
      }
    });
    const unit = figures[0].unit;
    const xLabel = figures[0].curve.xLabel;
    const allY = data.slice(1).flat().filter((v) => v !== null);
    const holder = el("div", { class: "chart" });
    section.appendChild(el("h3", {}, title));
    section.appendChild(holder);
    new uPlot(
      {
        width: width(section),
        height: 280,
        scales: { x: { time: false, distr: 3 }, y: logWorthy(allY) ? { distr: 3 } : {} },
        axes: [{ label: xLabel }, { label: unit, size: 70 }],
        series,
        hooks: {
          draw: [
            (u) => {
              // The ratio of ours to the first raw line, at each x.
              const raw = names.findIndex((n) => n !== "ours" && !n.startsWith("ours"));
              const oursIndex = names.indexOf("ours");
              if (raw < 0 || oursIndex < 0) return;
              const col = (name) => series.findIndex((s) => s.label === (name === "ours" ? "agentspace" : name));
              const o = data[col("ours")];
              const r = data[col(names[raw])];
              const ctx = u.ctx;
              ctx.save();
              ctx.fillStyle = OURS;
              ctx.font = `${Math.round(10 * devicePixelRatio)}px sans-serif`;
              ctx.textAlign = "center";
              xs.forEach((x, i) => {
                if (o[i] === null || r[i] === null || !r[i]) return;
                ctx.fillText(`${(o[i] / r[i]).toFixed(2)}×`, u.valToPos(x, "x", true), u.valToPos(o[i], "y", true) - 6 * devicePixelRatio);
              });
              ctx.restore();
            },
          ],
        },
      },
      data,
      holder,
    );
  }

  const all = new Map();
  for (const result of REPORT.results) for (const f of result.figures) all.set(`${result.scenario}/${f.key}`, f);
  // Figures some other figure is compared with: drawn as baselines wherever they appear.
  const baselines = new Set();
  for (const result of REPORT.results) {
    for (const f of result.figures) if (f.vs !== undefined) baselines.add(f.vs.includes("/") ? f.vs : `${result.scenario}/${f.vs}`);
  }

  for (const result of REPORT.results) {
    const section = el("section", { id: result.scenario });
    root.appendChild(section);
    section.appendChild(el("h2", {}, `${result.scenario}: ${result.description}`));
    const m = result.machine || {};
    section.appendChild(el("p", { class: "meta" }, `${result.runsPerFigure} run(s) per figure${result.quick ? ", quick" : ""}; ${(result.durationMs / 1000).toFixed(1)} s` + (m.cpus ? `; ${m.cpus} CPU(s)` : "") + (m.library?.packed ? `; agentspace ${m.library.version}, the packed package` : "")));
    const byName = (ref) => all.get(ref.includes("/") ? ref : `${result.scenario}/${ref}`);
    const curves = new Map();
    const plain = new Map();
    for (const f of result.figures) {
      if (f.curve) {
        if (!curves.has(f.curve.chart)) curves.set(f.curve.chart, []);
        curves.get(f.curve.chart).push(f);
      } else {
        if (!plain.has(f.unit)) plain.set(f.unit, []);
        plain.get(f.unit).push(f);
      }
    }
    const isBaseline = (f) => baselines.has(`${result.scenario}/${f.key}`);
    for (const [unit, figures] of plain) barChart(section, unit, figures, byName, isBaseline);
    for (const [title, figures] of curves) curveChart(section, title, figures);
    for (const v of result.targets || []) {
      // One small run cannot judge a target: its figure is shown, not a verdict.
      const met = v.met === undefined ? "not measured" : result.quick ? "not judged (a quick run)" : v.met ? "met" : "MISSED";
      const kind = result.quick || v.met === undefined ? "note" : met === "met" ? "target met" : "target missed";
      section.appendChild(el("p", { class: kind }, `target: ${v.text}: ${met}${v.value === undefined ? "" : ` (${fmt(v.value)})`}`));
    }
    for (const note of result.notes || []) section.appendChild(el("p", { class: "note" }, `note: ${note}`));
    if (result.error) section.appendChild(el("pre", { class: "error" }, `FAILED: ${result.error}`));
  }
  document.body.setAttribute("data-rendered", String(document.querySelectorAll("canvas").length));
})();
