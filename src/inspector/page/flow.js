import { compact, cut, svg, setText } from "./dom.js?token=__TOKEN__";

// Beyond this many agents a graph is a hairball: the busiest are drawn, the
// rest merged into one node per class (and one for remote ids).
const TOP = 24;
const WIDTH = 720;
const HEIGHT = 720;
const CENTRE = { x: WIDTH / 2, y: HEIGHT / 2 };
const RADIUS = 185;
const BROADCAST = "*";

/**
 * The Flow: agents as nodes, message traffic as edges (thicker for more
 * messages per second), broadcasts as dashed edges to a node of their own in
 * the middle. Drawn from the edge rates the server sends, which cover the
 * last few seconds.
 */
export class FlowGraph {
  #svg;
  #note;
  #onSelect;

  constructor(svgElement, note, onSelect) {
    this.#svg = svgElement;
    this.#note = note;
    this.#onSelect = onSelect;
  }

  /** Redraws from `agents` (id → row) and `edges` ([{ from, to, rate }]). */
  render(agents, edges) {
    const activity = new Map();
    const add = (id, rate) => activity.set(id, (activity.get(id) ?? 0) + rate);
    for (const { from, to, rate } of edges) {
      add(from, rate);
      if (to !== BROADCAST) add(to, rate);
    }
    // The busiest agents by traffic; with no traffic, the first agents, so the view is never empty.
    let ranked = [...activity.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
    if (ranked.length === 0) ranked = [...agents.keys()].sort().slice(0, TOP);
    const top = new Set(ranked.slice(0, TOP));
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

    const ordered = [...nodes.values()].sort((a, b) => Number(Boolean(a.group)) - Number(Boolean(b.group)) || a.key.localeCompare(b.key));
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
      }
      drawn.push(g);
    }
    this.#svg.replaceChildren(...drawn);
    let hidden = 0;
    for (const id of agents.keys()) if (!top.has(id)) hidden++;
    setText(
      this.#note,
      edges.length === 0
        ? "no messages in the last 5 s"
        : `${links.size} edges; ${hidden > 0 ? `${hidden} quieter agents grouped by class` : "every agent shown"}`,
    );
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
