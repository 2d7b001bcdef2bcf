/** A scenario's figures as a text table. */
import type { Figure } from "./scenario.js";
import { formatTable, type Column } from "./table.js";

const COLUMNS: Column[] = [
  { header: "figure", align: "left" },
  { header: "median", align: "right" },
  { header: "min", align: "right" },
  { header: "max", align: "right" },
  { header: "p99", align: "right" },
  { header: "unit", align: "left" },
  { header: "vs baseline", align: "left" },
];

export function renderFigures(figures: readonly Figure[]): string {
  return formatTable(COLUMNS, figures.map(figureRow));
}

function figureRow(figure: Figure): string[] {
  return [
    figure.label,
    formatNumber(figure.median),
    formatNumber(figure.min),
    formatNumber(figure.max),
    figure.p99 === undefined ? "" : formatNumber(figure.p99),
    figure.unit,
    formatRatio(figure),
  ];
}

/** Three significant figures at most for small values; whole numbers with separators above 100. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return Math.round(value).toLocaleString("en-US");
  if (magnitude >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

function formatRatio(figure: Figure): string {
  if (figure.vs === undefined) return "";
  if (figure.ratio === undefined) return `(${figure.vs} not measured)`;
  return `${figure.ratio.toFixed(2)}× ${figure.vs}`;
}
