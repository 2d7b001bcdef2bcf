import type { ServerResponse } from "node:http";
import type { AgentRow, AgentRows } from "./agent-rows.js";
import type { Edge, MessageSampler, TraceLine } from "./sampler.js";

/** What a page is sent first, and what `GET /api/snapshot` answers. */
export interface Snapshot {
  at: number;
  space: { kind: string; debug: boolean };
  agents: AgentRow[];
  edges: Edge[];
  trace: TraceLine[];
}

/** What a page is sent at most every TICK_MS while anything changed: rows that changed, ids that left, new lines. */
export interface Update {
  at: number;
  agents: AgentRow[];
  gone: string[];
  edges: Edge[];
  trace: TraceLine[];
  skipped: number;
}

export const TICK_MS = 250;
const HEARTBEAT_MS = 10_000;
const RECENT_TRACE = 200; // trace lines a page opened later starts with
// A page that stops reading is cut off (its EventSource reconnects and starts
// from a fresh snapshot) rather than letting its backlog grow without bound.
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * The Server-Sent Events streams of the open pages. Ticks only while one is
 * open: each tick reads the rows and a sample of the messages once, and
 * sends every page the same batch of what changed since the last tick.
 */
export class EventHub {
  #clients = new Set<ServerResponse>();
  #rows: AgentRows;
  #sampler: MessageSampler;
  #space: Snapshot["space"];
  #timer: NodeJS.Timeout | undefined;
  #sent = new Map<string, { row: AgentRow; json: string }>();
  #recent: TraceLine[] = [];
  #edges: Edge[] = [];
  #quietSince = Date.now();

  constructor(rows: AgentRows, sampler: MessageSampler, space: Snapshot["space"]) {
    this.#rows = rows;
    this.#sampler = sampler;
    this.#space = space;
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Opens an event stream on `response`: a snapshot first, then updates. */
  add(response: ServerResponse): void {
    response.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", Connection: "keep-alive" });
    if (this.#clients.size === 0) this.#start();
    this.#clients.add(response);
    response.on("close", () => this.#remove(response));
    // What the last tick sent, so that the next tick's changes apply to it.
    this.#write(response, "snapshot", this.#snapshotFromSent());
  }

  /** A snapshot read now (for a request outside any stream). */
  snapshot(): Snapshot {
    if (this.#clients.size > 0) return this.#snapshotFromSent();
    return { at: Date.now(), space: this.#space, agents: this.#rows.read(), edges: [], trace: [] };
  }

  /** Ends every stream. */
  close(): void {
    for (const client of this.#clients) client.destroy();
    this.#clients.clear();
    this.#stop();
  }

  #start(): void {
    this.#sampler.watch();
    this.#sent.clear();
    this.#recent = [];
    this.#edges = [];
    this.#tick(); // the first snapshot shows the agents at once
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref(); // an open page must not keep the process alive
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#sampler.unwatch();
  }

  #remove(response: ServerResponse): void {
    if (this.#clients.delete(response) && this.#clients.size === 0) this.#stop();
  }

  #snapshotFromSent(): Snapshot {
    const agents = [...this.#sent.values()].map(({ row }) => row);
    return { at: Date.now(), space: this.#space, agents, edges: this.#edges, trace: this.#recent };
  }

  #tick(): void {
    const rows = this.#rows.read();
    const changed: AgentRow[] = [];
    const present = new Set<string>();
    for (const row of rows) {
      present.add(row.id);
      const json = JSON.stringify(row);
      if (this.#sent.get(row.id)?.json === json) continue;
      this.#sent.set(row.id, { row, json });
      changed.push(row);
    }
    const gone: string[] = [];
    for (const id of this.#sent.keys()) if (!present.has(id)) gone.push(id);
    for (const id of gone) this.#sent.delete(id);
    const { trace, skipped, edges } = this.#sampler.sample();
    const edgesChanged = JSON.stringify(edges) !== JSON.stringify(this.#edges);
    this.#edges = edges;
    this.#recent = [...this.#recent, ...trace].slice(-RECENT_TRACE);
    const now = Date.now();
    if (changed.length === 0 && gone.length === 0 && trace.length === 0 && skipped === 0 && !edgesChanged) {
      if (now - this.#quietSince < HEARTBEAT_MS) return;
      for (const client of this.#clients) client.write(": still here\n\n");
      this.#quietSince = now;
      return;
    }
    this.#quietSince = now;
    const update: Update = { at: now, agents: changed, gone, edges, trace, skipped };
    for (const client of this.#clients) this.#write(client, "update", update);
  }

  #write(client: ServerResponse, event: string, data: Snapshot | Update): void {
    if (client.writableLength > MAX_BACKLOG_BYTES) {
      client.destroy();
      return;
    }
    client.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
