import { svg } from "./dom.js?token=__TOKEN__";

/** How many samples a sparkline shows: one a second, the last minute. */
export const HISTORY = 60;

/**
 * A small line chart of `values` (oldest first), scaled to its own maximum;
 * the title says the last value and the maximum, for whoever hovers.
 */
export function sparkline(values, { width = 80, height = 18, label = "" } = {}) {
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, HISTORY - 1);
  const offset = (HISTORY - values.length) * step;
  const points = values.map((value, i) => `${(offset + i * step).toFixed(1)},${(height - 1 - (value / max) * (height - 2)).toFixed(1)}`);
  const last = values.length > 0 ? values[values.length - 1] : 0;
  return svg(
    "svg",
    { class: "sparkline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": `${label}: ${last} (max ${max})` },
    svg("title", {}, `${label}: now ${last}, max ${max} over the last minute`),
    svg("line", { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: "baseline" }),
    points.length > 1 ? svg("polyline", { points: points.join(" ") }) : null,
  );
}

/**
 * Per agent, the last minute of its mailbox depth and message rate: one
 * sample a second, taken by the page from the updates it receives.
 */
export class History {
  #series = new Map();
  /** Counts samples: what was drawn from an older version is out of date. */
  version = 0;

  /** Records one sample of every row. */
  sample(rows) {
    this.version++;
    for (const row of rows) {
      let series = this.#series.get(row.id);
      if (!series) this.#series.set(row.id, (series = { depth: [], rate: [] }));
      push(series.depth, row.mailboxDepth);
      push(series.rate, row.rate);
    }
  }

  of(id) {
    return this.#series.get(id) ?? { depth: [], rate: [] };
  }

  forget(id) {
    this.#series.delete(id);
  }
}

function push(values, value) {
  values.push(value);
  if (values.length > HISTORY) values.shift();
}
