import { compact, cut, naturalCompare, svg, setText } from "./dom.js?token=__TOKEN__";

// Beyond this many agents a graph is a hairball: the busiest are drawn, the
// rest merged into one node per class (and one for remote ids).
const TOP = 24;
// From this many agents on, the graph starts by class.
const BY_CLASS_FROM = 100;
const WIDTH = 720;
const HEIGHT = 720;
const CENTRE = { x: WIDTH / 2, y: HEIGHT / 2 };
const RADIUS = 185;
const BROADCAST = "*";

/**
 * The Flow: message traffic as edges (thicker for more messages per
 * second) between nodes, broadcasts as dashed edges to a node of their own
 * in the middle. By agent: the busiest agents, the rest one node per class.
 * By class (the start, from BY_CLASS_FROM agents): one node per class, the traffic
 * between classes; a click on a class shows its busiest agents among the
 * other classes, a second click folds them again. Drawn from the edge rates
 * the server sends, which cover the last few seconds.
 */
export class FlowGraph {
  #svg;
  #note;
  #modeButton;
  #onSelect;
  #redraw;
  /** "auto" (by class from BY_CLASS_FROM agents), "agents" or "classes", as the button last chose. */
  #mode = "auto";
  /** The class whose agents are shown one by one, by class. */
  #focus;
  #byClass = false;

  constructor(svgElement, note, modeButton, onSelect, redraw) {
    this.#svg = svgElement;
    this.#note = note;
    this.#modeButton = modeButton;
    this.#onSelect = onSelect;
    this.#redraw = redraw;
    modeButton.addEventListener("click", () => {
      this.#mode = this.#byClass ? "agents" : "classes";
      this.#focus = undefined;
      this.#redraw();
    });
  }

  #top(agents, activity) {
    const busiest = (ids) => {
      const ranked = ids.filter((id) => activity.has(id)).sort((a, b) => activity.get(b) - activity.get(a));
      // With no traffic, the first ones, so that the view is never empty.
      return ranked.length > 0 ? ranked.slice(0, TOP) : ids.sort(naturalCompare).slice(0, TOP);
    };
    if (!this.#byClass) return new Set(busiest([...new Set([...activity.keys(), ...agents.keys()])]));
    if (this.#focus === undefined) return new Set();
    return new Set(busiest([...agents.values()].filter((row) => row.className === this.#focus).map((row) => row.id)));
  }

  /** Redraws from `agents` (id → row) and `edges` ([{ from, to, rate }]). */
  render(agents, edges) {
    const activity = new Map();
    const add = (id, rate) => activity.set(id, (activity.get(id) ?? 0) + rate);
    for (const { from, to, rate } of edges) {
      add(from, rate);
      if (to !== BROADCAST) add(to, rate);
    }
    this.#byClass = this.#mode === "classes" || (this.#mode === "auto" && agents.size >= BY_CLASS_FROM);
    setText(this.#modeButton, this.#byClass ? "By agent" : "By class");
    this.#modeButton.setAttribute("aria-pressed", String(!this.#byClass));
    const top = this.#top(agents, activity);
    const nodeOf = (id) => {
      if (top.has(id)) return id;
      const row = agents.get(id);
      return row ? `group:${row.className}` : "group:(other ids)";
    };

    const nodes = new Map(); // key → { key, label, members, rate, agent }
    for (const id of top) nodes.set(id, { key: id, label: id, members: 1, rate: activity.get(id) ?? 0, agent: agents.has(id) ? id : undefined });
    for (const id of new Set([...agents.keys(), ...activity.keys()])) {
      if (top.has(id)) continue;
      const key = nodeOf(id);
      const node = nodes.get(key) ?? { key, label: key.slice("group:".length), members: 0, rate: 0, agent: undefined, group: true };
      node.members++;
      node.rate += activity.get(id) ?? 0;
      nodes.set(key, node);
    }

    const links = new Map(); // "from\0to" → { from, to, rate }
    let broadcasts = false;
    for (const { from, to, rate } of edges) {
      const a = nodeOf(from);
      const b = to === BROADCAST ? BROADCAST : nodeOf(to);
      if (a === b) continue; // traffic inside a group: counted in its rate, not drawn
      if (b === BROADCAST) broadcasts = true;
      const key = `${a}\u0000${b}`;
      const link = links.get(key) ?? { from: a, to: b, rate: 0 };
      link.rate += rate;
      links.set(key, link);
    }

    const ordered = [...nodes.values()].sort((a, b) => Number(Boolean(a.group)) - Number(Boolean(b.group)) || naturalCompare(a.key, b.key));
    const at = new Map();
    ordered.forEach((node, i) => {
      const angle = (2 * Math.PI * i) / Math.max(1, ordered.length) - Math.PI / 2;
      at.set(node.key, { x: CENTRE.x + RADIUS * Math.cos(angle), y: CENTRE.y + RADIUS * Math.sin(angle), angle });
    });
    if (broadcasts) at.set(BROADCAST, CENTRE);

    const maxRate = Math.max(1, ...[...links.values()].map((link) => link.rate));
    const drawn = [
      svg(
        "defs",
        {},
        // Sized in the graph's units, not by the line's width: a busy edge gets a thicker line, not a huge arrowhead.
        svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 9, markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" }, svg("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" })),
      ),
    ];
    for (const link of [...links.values()].sort((a, b) => a.rate - b.rate)) {
      const from = at.get(link.from);
      const to = at.get(link.to);
      if (!from || !to) continue;
      const end = shorten(from, to, link.to === BROADCAST ? 22 : 14);
      const width = 1 + 7 * Math.sqrt(link.rate / maxRate);
      drawn.push(
        svg(
          "line",
          { x1: from.x, y1: from.y, x2: end.x, y2: end.y, "stroke-width": width.toFixed(1), class: link.to === BROADCAST ? "edge broadcast" : "edge", "marker-end": "url(#arrow)" },
          svg("title", {}, `${labelOf(nodes, link.from)} → ${link.to === BROADCAST ? "everyone (broadcast)" : labelOf(nodes, link.to)}: ${compact(link.rate)} msg/s`),
        ),
      );
    }
    if (broadcasts) {
      drawn.push(svg("g", { class: "node broadcast" }, svg("circle", { cx: CENTRE.x, cy: CENTRE.y, r: 20 }), svg("text", { x: CENTRE.x, y: CENTRE.y + 4, "text-anchor": "middle" }, "* all")));
    }
    for (const node of ordered) {
      const { x, y, angle } = at.get(node.key);
      const r = node.group ? 12 + Math.min(10, Math.log2(node.members + 1) * 2) : 9;
      const label = node.group ? `${cut(node.label, 13)} ×${node.members}` : cut(node.label, 16);
      // Labels point away from the centre, along their node's radius: neighbours' labels never overlap.
      const right = Math.cos(angle) >= -1e-9;
      const degrees = (angle * 180) / Math.PI + (right ? 0 : 180);
      const labelAt = { x: CENTRE.x + (RADIUS + r + 5) * Math.cos(angle), y: CENTRE.y + (RADIUS + r + 5) * Math.sin(angle) };
      const g = svg(
        "g",
        { class: node.group ? "node group" : "node", "data-node": node.key },
        svg("title", {}, node.group ? `${node.members} more ${node.label} agents: ${compact(node.rate)} msg/s` : `${node.label}: ${compact(node.rate)} msg/s`),
        svg("circle", { cx: x, cy: y, r }),
        svg(
          "text",
          { x: labelAt.x, y: labelAt.y, dy: "0.35em", "text-anchor": right ? "start" : "end", transform: `rotate(${degrees.toFixed(1)} ${labelAt.x.toFixed(1)} ${labelAt.y.toFixed(1)})` },
          label,
        ),
      );
      if (node.agent !== undefined) {
        const id = node.agent;
        g.addEventListener("click", () => this.#onSelect(id));
      } else if (node.group && this.#byClass && agents.size > 0) {
        const className = node.label;
        g.addEventListener("click", () => {
          this.#focus = this.#focus === className ? undefined : className;
          this.#redraw();
        });
      }
      drawn.push(g);
    }
    this.#svg.replaceChildren(...drawn);
    let hidden = 0;
    for (const id of agents.keys()) if (!top.has(id)) hidden++;
    const shown = this.#byClass
      ? this.#focus === undefined
        ? "by class: click one to see its agents"
        : `the busiest ${this.#focus} agents, the rest by class`
      : hidden > 0
        ? `${hidden} quieter agents grouped by class`
        : "every agent shown";
    setText(this.#note, edges.length === 0 ? `no messages in the last 5 s; ${shown}` : `${links.size} edges; ${shown}`);
  }
}

function labelOf(nodes, key) {
  const node = nodes.get(key);
  return node ? (node.group ? `${node.label} ×${node.members}` : node.label) : key;
}

/** The point `by` short of `to` on the way from `from`: the arrow ends at the node's rim. */
function shorten(from, to, by) {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const length = Math.hypot(dx, dy) || 1;
  return { x: to.x - (dx / length) * by, y: to.y - (dy / length) * by };
}
