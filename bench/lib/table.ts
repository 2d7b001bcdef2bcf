/** Plain-text tables with aligned columns. */

export type Align = "left" | "right";

export interface Column {
  header: string;
  align: Align;
}

export function formatTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, i) =>
    Math.max(column.header.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    columns
      .map((column, i) => pad(cells[i] ?? "", widths[i]!, column.align))
      .join("  ")
      .trimEnd();
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [line(columns.map((c) => c.header)), rule, ...rows.map(line)].join("\n");
}

function pad(text: string, width: number, align: Align): string {
  return align === "left" ? text.padEnd(width) : text.padStart(width);
}
