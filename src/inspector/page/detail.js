import { el, setText } from "./dom.js?token=__TOKEN__";
import { sparkline } from "./sparkline.js?token=__TOKEN__";

/**
 * The detail panel of one agent: its row, the last minute as charts, its
 * actions (`help`), its fields (`inspect`, debug spaces only), its last
 * error with the stack, and a Remove button that asks first.
 */
export class DetailPanel {
  #panel;
  #title;
  #body;
  #api;
  #history;
  #removeButton;
  #id;
  #asked = 0;

  #latest;

  /** `latest(id)`: the page's current row of agent `id`. */
  constructor(panel, api, history, latest) {
    this.#latest = latest;
    this.#panel = panel;
    this.#title = panel.querySelector("#detail-title");
    this.#body = panel.querySelector("#detail-body");
    this.#removeButton = panel.querySelector("#detail-remove");
    this.#api = api;
    this.#history = history;
    panel.querySelector("#detail-close").addEventListener("click", () => this.close());
    panel.querySelector("#detail-refresh").addEventListener("click", () => this.#id !== undefined && this.open(this.#id));
    this.#removeButton.addEventListener("click", () => this.#remove());
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
  }

  get id() {
    return this.#id;
  }

  async open(id) {
    this.#id = id;
    const asked = ++this.#asked;
    this.#panel.hidden = false;
    document.body.classList.add("detail-open");
    setText(this.#title, id);
    this.#body.replaceChildren(el("p", { class: "muted" }, "asking the agent…"));
    let detail;
    try {
      detail = await this.#api.agent(id);
    } catch (error) {
      if (asked === this.#asked) this.#body.replaceChildren(el("p", { class: "error" }, String(error.message ?? error)));
      return;
    }
    if (asked !== this.#asked) return; // another agent was opened meanwhile
    this.#draw(detail);
  }

  close() {
    this.#id = undefined;
    this.#asked++;
    this.#panel.hidden = true;
    document.body.classList.remove("detail-open");
  }

  /** The agent's latest row: its facts are redrawn from it (the rest was asked of the agent once). */
  update(row) {
    const facts = this.#body.querySelector("dl.facts");
    if (!row || !facts || facts.dataset.agent !== row.id) return;
    const fresh = factsOf(row);
    if (fresh.textContent !== facts.textContent) facts.replaceWith(fresh);
  }

  #draw(detail) {
    const { help, state, lastError } = detail;
    // The page's own row when it has one: the numbers then agree with the table's.
    const row = this.#latest(detail.id) ?? detail.row;
    this.#removeButton.disabled = !row || row.state === "removed" || row.state === "crashed";
    const parts = [];
    if (row) {
      parts.push(factsOf(row));
      const { depth, rate } = this.#history.of(row.id);
      parts.push(
        el("h3", {}, "Last minute"),
        el(
          "div",
          { class: "charts-large" },
          el("figure", {}, sparkline(depth, { width: 200, height: 40, label: "mailbox depth" }), el("figcaption", {}, "mailbox depth")),
          el("figure", {}, sparkline(rate, { width: 200, height: 40, label: "msg/s" }), el("figcaption", {}, "messages per second")),
        ),
      );
    }
    parts.push(el("h3", {}, "Actions"));
    if ("unavailable" in help) parts.push(el("p", { class: "muted" }, help.unavailable));
    else parts.push(el("ul", { class: "actions" }, ...Object.entries(help).map(([name, entry]) => actionItem(name, entry))));
    parts.push(el("h3", {}, "State"));
    if (state && typeof state === "object" && "unavailable" in state) parts.push(el("p", { class: "muted" }, String(state.unavailable)));
    else if (state !== undefined) parts.push(el("pre", { class: "state" }, JSON.stringify(state, null, 2)));
    parts.push(el("h3", {}, "Last error"));
    if (!lastError) parts.push(el("p", { class: "muted" }, "none seen while the inspector was open"));
    else {
      parts.push(
        el("p", { class: "error" }, lastError.error),
        el("p", { class: "muted" }, `${new Date(lastError.at).toLocaleTimeString()}${lastError.outcome ? ` · ${lastError.outcome}` : ""}`),
      );
      if (lastError.stack) parts.push(el("pre", { class: "stack" }, lastError.stack));
    }
    this.#body.replaceChildren(...parts);
  }

  async #remove() {
    const id = this.#id;
    if (id === undefined) return;
    if (!window.confirm(`Remove agent "${id}" from the space? Its beforeRemove runs; requests waiting on it fail.`)) return;
    this.#removeButton.disabled = true;
    try {
      await this.#api.remove(id);
      this.#body.prepend(el("p", { class: "notice" }, `removed "${id}"`));
    } catch (error) {
      this.#body.prepend(el("p", { class: "error" }, `could not remove "${id}": ${error.message ?? error}`));
      this.#removeButton.disabled = false;
    }
  }
}

function factsOf(row) {
  return el(
    "dl",
    { class: "facts", "data-agent": row.id },
    ...fact("class", row.className),
    ...fact("runs in", row.mates > 0 ? `${row.thread}, with ${row.mates} other agent${row.mates === 1 ? "" : "s"}` : row.thread),
    ...fact("state", row.state),
    ...fact("restarts", row.restarts),
    ...fact("mailbox", row.waiting ? `${row.mailboxDepth} (+${row.waiting} waiting)` : row.mailboxDepth),
    ...fact("received / sent", `${row.received.toLocaleString("en-US")} / ${row.sent.toLocaleString("en-US")}`),
    ...fact("errors", row.errors),
    ...fact("dropped", row.dropped),
    ...(row.loops === undefined ? [] : fact("loops", row.loops)),
  );
}

function fact(term, value) {
  return [el("dt", {}, term), el("dd", {}, String(value))];
}

function actionItem(name, entry) {
  const args = Object.entries(entry.args ?? {}).map(([arg, help]) => (help && help.type ? `${arg}: ${help.type}` : arg));
  const signature = `${name}(${args.length > 0 ? `{ ${args.join(", ")} }` : ""})${entry.returns?.type ? ` → ${entry.returns.type}` : ""}`;
  return el("li", {}, el("code", {}, signature), entry.description ? el("span", { class: "muted" }, ` ${entry.description}`) : null);
}
