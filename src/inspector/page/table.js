import { compact, el, naturalCompare as compare, setText } from "./dom.js?token=__TOKEN__";
import { sparkline } from "./sparkline.js?token=__TOKEN__";

// Drawing thousands of rows several times a second would cost the page more
// than it shows: the first rows of the sorted, filtered list are drawn, and
// the filter narrows the rest.
const MAX_ROWS = 300;

const columns = [
  { key: "id", label: "id", text: (row) => row.id },
  { key: "className", label: "class", text: (row) => row.className },
  { key: "thread", label: "runs in", text: (row) => (row.mates > 0 ? `${row.thread} (+${row.mates})` : row.thread), title: "thread (and how many thread-mates)" },
  { key: "state", label: "state", text: (row) => row.state },
  { key: "restarts", label: "restarts", numeric: true, text: (row) => compact(row.restarts) },
  {
    key: "mailboxDepth",
    label: "mailbox",
    numeric: true,
    text: (row) => (row.waiting ? `${compact(row.mailboxDepth)} +${compact(row.waiting)}` : compact(row.mailboxDepth)),
    title: "messages waiting in the mailbox (+ in the waiting room)",
  },
  { key: "received", label: "received", numeric: true, text: (row) => compact(row.received) },
  { key: "sent", label: "sent", numeric: true, text: (row) => compact(row.sent) },
  { key: "errors", label: "errors", numeric: true, text: (row) => compact(row.errors) },
  { key: "rate", label: "msg/s", numeric: true, text: (row) => compact(row.rate), title: "messages received and sent per second" },
  { key: "loops", label: "loops", numeric: true, text: (row) => (row.loops === undefined ? "–" : String(row.loops)) },
];

/**
 * The Agents table: one row per agent, sorted by a column (click its
 * header; again to reverse), narrowed by the filter box. Rows are kept per
 * agent and only their changed cells rewritten.
 */
export class AgentTable {
  #table;
  #body;
  #shown;
  #history;
  #onSelect;
  #sortKey = "id";
  #ascending = true;
  #filter = "";
  #rows = new Map(); // id → { tr, cells, depthCell, rateCell }
  #headers = new Map();

  constructor(table, filterInput, shown, history, onSelect) {
    this.#table = table;
    this.#body = table.tBodies[0];
    this.#shown = shown;
    this.#history = history;
    this.#onSelect = onSelect;
    const headRow = table.tHead.rows[0];
    for (const column of [...columns, { key: null, label: "last minute" }]) {
      const th = el("th", { scope: "col", title: column.title, class: column.numeric ? "numeric" : undefined });
      if (column.key) {
        const button = el("button", { type: "button", "data-sort": column.key }, column.label);
        button.addEventListener("click", () => this.#sortBy(column.key));
        th.append(button);
        this.#headers.set(column.key, th);
      } else th.append(column.label);
      headRow.append(th);
    }
    filterInput.addEventListener("input", () => {
      this.#filter = filterInput.value.trim().toLowerCase();
      this.render(this.lastRows ?? []);
    });
    this.#markSorted();
  }

  /** Draws `rows` (every agent), sorted and filtered. */
  render(rows) {
    this.lastRows = rows;
    const filter = this.#filter;
    const matching = filter
      ? rows.filter((row) => [row.id, row.className, row.state, row.thread].some((text) => text.toLowerCase().includes(filter)))
      : rows.slice();
    const key = this.#sortKey;
    const direction = this.#ascending ? 1 : -1;
    matching.sort((a, b) => direction * compare(a[key], b[key]) || compare(a.id, b.id));
    const drawn = matching.slice(0, MAX_ROWS);
    const keep = new Set();
    for (const row of drawn) {
      keep.add(row.id);
      const entry = this.#rows.get(row.id) ?? this.#newRow(row.id);
      columns.forEach((column, i) => setText(entry.cells[i], column.text(row)));
      entry.tr.className = `state-${row.state}`;
      // The history gains a sample a second: charts are redrawn then, not on every update.
      if (entry.chartsAt !== this.#history.version) {
        entry.chartsAt = this.#history.version;
        const { depth, rate } = this.#history.of(row.id);
        entry.charts.replaceChildren(sparkline(depth, { label: "mailbox" }), sparkline(rate, { label: "msg/s" }));
      }
      this.#body.append(entry.tr); // moves it into sorted order
    }
    for (const [id, entry] of this.#rows) {
      if (keep.has(id)) continue;
      entry.tr.remove();
      this.#rows.delete(id);
    }
    setText(
      this.#shown,
      drawn.length < matching.length
        ? `showing ${drawn.length} of ${matching.length} (filter to narrow)`
        : `${matching.length} of ${rows.length} agents`,
    );
  }

  #newRow(id) {
    const cells = columns.map((column) => el("td", { "data-col": column.key, class: column.numeric ? "numeric" : undefined }));
    const charts = el("td", { class: "charts" });
    const tr = el("tr", { "data-agent": id, tabindex: 0 }, ...cells, charts);
    const select = () => this.#onSelect(id);
    tr.addEventListener("click", select);
    tr.addEventListener("keydown", (event) => {
      if (event.key === "Enter") select();
    });
    const entry = { tr, cells, charts, chartsAt: -1 };
    this.#rows.set(id, entry);
    return entry;
  }

  #sortBy(key) {
    if (this.#sortKey === key) this.#ascending = !this.#ascending;
    else {
      this.#sortKey = key;
      // Numbers are most telling largest first; names, in alphabetical order.
      this.#ascending = !columns.find((column) => column.key === key).numeric;
    }
    this.#markSorted();
    this.render(this.lastRows ?? []);
  }

  #markSorted() {
    for (const [key, th] of this.#headers) {
      if (key === this.#sortKey) th.setAttribute("aria-sort", this.#ascending ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }
}
