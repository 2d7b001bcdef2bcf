import type { NodeView } from "./directory.js";
import type { NodeEvent } from "./events.js";

/** Columns padded to their widest cell. */
function columns(rows: string[][]): string {
  const widths = rows[0]!.map((_, at) => Math.max(...rows.map((row) => row[at]!.length)));
  return rows.map((row) => row.map((cell, at) => cell.padEnd(widths[at]!)).join("  ").trimEnd()).join("\n");
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

/** The nodes as `agentspace nodes` prints them: one line per node, then its agents. */
export function nodesTable(nodes: NodeView[], events: NodeEvent[] = []): string {
  if (nodes.length === 0) return "no nodes\n";
  const rows = [["NODE", "STATE", "AGENTS", "HOST", "PID", "CORES", "MEMORY", "CLASSES"]];
  for (const node of nodes) {
    const state = !node.live ? "down" : node.draining ? "draining" : "up";
    rows.push([node.name, state, `${node.agents.length}/${node.capacity}`, node.host, String(node.pid), String(node.cores), gib(node.memory), node.classes.join(",")]);
  }
  let text = `${columns(rows)}\n`;
  const placements = nodes.flatMap((node) => node.agents.map((agent) => [agent.id, agent.className, agent.restart, node.name]));
  if (placements.length > 0) text += `\n${columns([["AGENT", "CLASS", "RESTART", "NODE"], ...placements])}\n`;
  if (events.length > 0) {
    const lines = events.map((event) => {
      const what = `${event.kind} ${event.node}${event.id ? ` ${event.id}` : ""}${event.to ? ` -> ${event.to}` : ""}`;
      return `${new Date(event.at).toISOString()}  ${what}${event.detail ? `: ${event.detail}` : ""}`;
    });
    text += `\nrecent events:\n${lines.join("\n")}\n`;
  }
  return text;
}
