import { compact, setText } from "./dom.js?token=__TOKEN__";
import { DetailPanel } from "./detail.js?token=__TOKEN__";
import { FlowGraph } from "./flow.js?token=__TOKEN__";
import { History } from "./sparkline.js?token=__TOKEN__";
import { Summary } from "./summary.js?token=__TOKEN__";
import { AgentTable } from "./table.js?token=__TOKEN__";
import { TracePanel } from "./trace.js?token=__TOKEN__";

// Every request carries the token the page was opened with.
const token = new URLSearchParams(location.search).get("token") ?? "";
const withToken = (path, params = {}) => `${path}?${new URLSearchParams({ ...params, token })}`;

const api = {
  async agent(id) {
    return answerOf(await fetch(withToken("api/agent", { id })));
  },
  async remove(id) {
    const response = await fetch(withToken("api/remove"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ id }),
    });
    return answerOf(response);
  },
};

async function answerOf(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

const agents = new Map(); // id → row
let edges = [];
const history = new History();
const detail = new DetailPanel(document.getElementById("detail"), api, history, (id) => agents.get(id));
const select = (id) => void detail.open(id);
const table = new AgentTable(
  document.getElementById("agents"),
  document.getElementById("agent-filter"),
  document.getElementById("agents-shown"),
  history,
  select,
);
const trace = new TracePanel(
  document.getElementById("trace"),
  document.getElementById("trace-pause"),
  document.getElementById("trace-filter"),
  document.getElementById("trace-answers"),
  document.getElementById("trace-note"),
  (id) => agents.get(id)?.className,
);
const flow = new FlowGraph(document.getElementById("flow"), document.getElementById("flow-note"), document.getElementById("flow-mode"), select, () => draw());
const summary = new Summary(document.getElementById("summary"));

// Updates arrive up to four times a second; the page draws at most once per frame.
let drawPending = false;
function draw() {
  if (drawPending) return;
  drawPending = true;
  requestAnimationFrame(() => {
    drawPending = false;
    const rows = [...agents.values()];
    summary.render(rows);
    table.render(rows);
    flow.render(agents, edges);
    // The open agent's numbers are the row's: the same as its line in the table, live.
    if (detail.id !== undefined) detail.update(agents.get(detail.id));
    const running = rows.filter((row) => row.state === "running").length;
    const rate = rows.reduce((sum, row) => sum + row.rate, 0);
    // Each message counts at its sender and at its receiver: half the sum is what the space moves.
    setText(document.getElementById("totals"), `${running} running · ≈${compact(rate / 2)} msg/s`);
  });
}

// One sample a second of every agent, for the sparklines.
setInterval(() => {
  history.sample(agents.values());
  draw();
}, 1000);

function connect() {
  const status = document.getElementById("connection");
  const events = new EventSource(withToken("api/events"));
  events.addEventListener("open", () => {
    setText(status, "live");
    status.className = "connection live";
  });
  events.addEventListener("error", () => {
    // EventSource reconnects by itself; a new stream starts with a fresh snapshot.
    setText(status, "reconnecting…");
    status.className = "connection down";
  });
  events.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    setText(document.getElementById("space-kind"), snapshot.space.kind);
    setText(document.getElementById("debug-mode"), snapshot.space.debug ? "debug: inspect open" : "no debug");
    agents.clear();
    for (const row of snapshot.agents) agents.set(row.id, row);
    edges = snapshot.edges;
    trace.reset(snapshot.trace);
    draw();
  });
  events.addEventListener("update", (event) => {
    const update = JSON.parse(event.data);
    for (const row of update.agents) agents.set(row.id, row);
    for (const id of update.gone) {
      agents.delete(id);
      history.forget(id);
    }
    edges = update.edges;
    trace.add(update.trace, update.skipped);
    draw();
  });
}

connect();
