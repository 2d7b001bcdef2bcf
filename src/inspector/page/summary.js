import { compact, el, setText } from "./dom.js?token=__TOKEN__";

const STATES = ["running", "restarting", "stopping", "crashed", "removed"];

/**
 * Totals at the top: per class, how many agents in each state and the
 * messages they received and sent, from the same rows the table draws (so
 * the numbers agree). A swarm of thousands reads here first.
 */
export class Summary {
  #table;

  constructor(table) {
    this.#table = table;
  }

  render(rows) {
    const classes = new Map(); // class → { states, received, sent, rate }
    for (const row of rows) {
      const entry = classes.get(row.className) ?? { count: 0, states: new Map(), received: 0, sent: 0, rate: 0 };
      entry.count++;
      entry.states.set(row.state, (entry.states.get(row.state) ?? 0) + 1);
      entry.received += row.received;
      entry.sent += row.sent;
      entry.rate += row.rate;
      classes.set(row.className, entry);
    }
    const seen = STATES.filter((state) => [...classes.values()].some((entry) => entry.states.has(state)));
    const head = el("tr", {}, el("th", { scope: "col" }, "class"), el("th", { scope: "col", class: "numeric" }, "agents"), ...seen.map((state) => el("th", { scope: "col", class: "numeric" }, state)), el("th", { scope: "col", class: "numeric" }, "received"), el("th", { scope: "col", class: "numeric" }, "sent"), el("th", { scope: "col", class: "numeric" }, "msg/s"));
    const body = [...classes.entries()]
      .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
      .map(([className, entry]) =>
        el(
          "tr",
          { "data-class": className },
          el("th", { scope: "row" }, className),
          el("td", { class: "numeric" }, entry.count.toLocaleString("en-US")),
          ...seen.map((state) => el("td", { class: "numeric", "data-state": state }, (entry.states.get(state) ?? 0).toLocaleString("en-US"))),
          el("td", { class: "numeric" }, compact(entry.received)),
          el("td", { class: "numeric" }, compact(entry.sent)),
          el("td", { class: "numeric" }, compact(entry.rate)),
        ),
      );
    const key = JSON.stringify([seen, ...body.map((tr) => tr.textContent)]);
    if (this.#table.dataset.drawn === key) return; // unchanged: no layout work
    this.#table.dataset.drawn = key;
    this.#table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
  }
}
