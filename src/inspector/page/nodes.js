// The nodes of a RedisSpace's namespace (agentspace node …) and the agents
// placed on each, looked up every few seconds. Hidden for spaces without nodes.
import { clear, el } from "./dom.js?token=__TOKEN__";

const token = new URLSearchParams(location.search).get("token") ?? "";
const section = document.getElementById("nodes-section");
const body = document.querySelector("#nodes tbody");
const note = document.getElementById("nodes-note");
const EVERY_MS = 2_000;

function row(node) {
  const state = !node.live ? "down" : node.draining ? "draining" : "up";
  const agents = node.agents.map((agent) => agent.id).join(", ");
  return el(
    "tr",
    {},
    el("td", {}, node.name),
    el("td", { class: `state-${state}` }, state),
    el("td", {}, `${node.agents.length}/${node.capacity}`),
    el("td", {}, `${node.host} (pid ${node.pid}, ${node.cores} cores)`),
    el("td", {}, node.classes.join(", ")),
    el("td", { title: agents }, agents),
  );
}

async function look() {
  try {
    const response = await fetch(`api/nodes?${new URLSearchParams({ token })}`);
    const answer = await response.json();
    if (!response.ok || answer.nodes === null) {
      section.hidden = true;
      return answer.nodes !== null; // a space without nodes never will have any
    }
    section.hidden = false;
    clear(body);
    for (const node of answer.nodes) body.append(row(node));
    const last = answer.events.at(-1);
    note.textContent = last ? `last: ${last.kind} ${last.node}${last.id ? ` ${last.id}` : ""}${last.to ? ` → ${last.to}` : ""}` : "";
  } catch {
    // The space went away, or the network: the next look tries again.
  }
  return true;
}

async function loop() {
  if (await look()) setTimeout(loop, EVERY_MS);
}
void loop();
