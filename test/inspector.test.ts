import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Dialog, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startRepl } from "../src/cli/repl.js";
import { AMQPSpace, Agent, LocalSpace, MultiprocessSpace, action, type Inspector } from "../src/index.js";
import { Calculator } from "./fixtures/calculator.js";
import { Coordinator, Person } from "./fixtures/census.js";
import { Fragile } from "./fixtures/faults.js";
import { deleteExchangesMade, describeWithBroker, probeBroker, uniqueExchange } from "./helpers/broker.js";
import { nextEvent } from "./helpers/events.js";

const root = fileURLToPath(new URL("..", import.meta.url));
// An id chosen to run script if the page ever put data in as markup.
const hostileId = "<img src=x onerror=alert(1)>";

/** An agent that asks another: traffic between agents, for the trace and the flow. */
class Relay extends Agent {
  @action({ help: { description: "Asks `to` to add a and b", args: { to: { type: "string" } }, returns: { type: "number" } } })
  relay({ to, a, b }: { to: string; a: number; b: number }): Promise<unknown> {
    return this.request({ to, action: { name: "add", args: { a, b } } });
  }

  @action({ help: "Tells every agent something" })
  shout(): void {
    this.send({ to: "*", action: { name: "heard", args: {} } });
  }
}

interface Parts {
  base: string;
  token: string;
}

function partsOf(inspector: Inspector): Parts {
  const url = new URL(inspector.url);
  return { base: `${url.origin}/`, token: url.searchParams.get("token")! };
}

/** A URL of the inspector; `token` null: none at all. */
function at(parts: Parts, path: string, params: Record<string, string> = {}, token: string | null = parts.token): string {
  const query = new URLSearchParams(params);
  if (token !== null) query.set("token", token);
  return `${parts.base}${path}?${query}`;
}

/** The JSON a GET answers; the tests read the fields they check. */
async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

function postJson(url: string, body: string, contentType = "application/json"): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "Content-Type": contentType }, body });
}

interface ServerEvent {
  event: string;
  data: any;
}

/** Reads Server-Sent Events from a fetch response, one at a time. */
class EventReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder();
  #buffer = "";

  constructor(response: Response) {
    this.#reader = response.body!.getReader();
  }

  async next(): Promise<ServerEvent> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        if (block.startsWith(":")) continue; // a comment: the heartbeat
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "null";
        return { event, data: JSON.parse(data) };
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error("the event stream ended");
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** The first event that `accept` takes, within `timeoutMs`. */
  async until(accept: (event: ServerEvent) => boolean, timeoutMs = 5_000): Promise<ServerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (Date.now() > deadline) throw new Error("no such event in time");
      const event = await this.next();
      if (accept(event)) return event;
    }
  }

  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}

describe("the inspector's HTTP API", () => {
  let space: LocalSpace;
  let inspector: Inspector;
  let parts: Parts;

  beforeAll(async () => {
    space = new LocalSpace({ debug: true });
    await space.add(Calculator, "calc");
    await space.add(Calculator, "victim");
    inspector = await space.openInspector({ port: 0 });
    parts = partsOf(inspector);
  });

  afterAll(() => space.destroy());

  it("serves on 127.0.0.1 by default, with a long random token in the URL", () => {
    expect(inspector.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}$/);
  });

  const routes: Array<[string, string]> = [
    ["GET", ""],
    ["GET", "app.js"],
    ["GET", "style.css"],
    ["GET", "table.js"],
    ["GET", "api/snapshot"],
    ["GET", "api/events"],
    ["GET", "api/agent"],
    ["POST", "api/remove"],
    ["GET", "metrics"],
    ["GET", "no/such/page"],
  ];

  it.each(routes)("refuses %s /%s with 403 without the token, or with a wrong one", async (method, path) => {
    // The last character changed (to one it is not: a token may end in "A" already).
    const lastChanged = `${parts.token.slice(0, -1)}${parts.token.endsWith("A") ? "B" : "A"}`;
    const wrong = [null, "", "x", lastChanged, parts.token.toUpperCase(), `${parts.token}x`].filter((token) => token !== parts.token);
    for (const token of wrong) {
      const init = method === "POST" ? { method, headers: { "Content-Type": "application/json" }, body: `{"id":"victim"}` } : { method };
      const response = await fetch(at(parts, path, { id: "victim" }, token), init);
      expect(response.status, `token ${JSON.stringify(token)}`).toBe(403);
      await response.body?.cancel();
    }
    expect(space.agents).toContain("victim"); // the refused remove did nothing
  });

  it("serves the page and its scripts with the token written into their links, and strict headers", async () => {
    const response = await fetch(at(parts, ""));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    expect(response.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    const html = await response.text();
    expect(html).toContain(`app.js?token=${parts.token}`);
    expect(html).not.toContain("__TOKEN__");
    for (const name of ["app.js", "dom.js", "table.js", "trace.js", "flow.js", "detail.js", "sparkline.js"]) {
      const script = await fetch(at(parts, name));
      expect(script.headers.get("content-type")).toContain("text/javascript");
      const source = await script.text();
      expect(source).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write/); // data goes in as text only
      expect(source).not.toContain("__TOKEN__");
    }
  });

  it("links the space's Prometheus metrics from the page, behind the token", async () => {
    const html = await (await fetch(at(parts, ""))).text();
    expect(html).toContain(`href="metrics?token=${parts.token}"`);
    const response = await fetch(at(parts, "metrics"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await response.text()).toContain('agentspace_agents{agent_class="Calculator"}');
  });

  it("answers a JSON snapshot of the agents with their stats", async () => {
    const calc = space.handle<Calculator>("calc");
    for (let i = 0; i < 3; i++) await calc.add({ a: i, b: 1 });
    const snapshot = await getJson(at(parts, "api/snapshot"));
    expect(snapshot.space).toEqual({ kind: "LocalSpace", debug: true });
    const row = snapshot.agents.find((agent: { id: string }) => agent.id === "calc");
    expect(row).toMatchObject({ className: "Calculator", thread: "main thread", state: "running", received: 3, sent: 3, errors: 0, mailboxDepth: 0 });
  });

  it("pushes a snapshot, then batched updates with trace lines, edges and counters, and watches messages only while a page is open", async () => {
    expect(space.listenerCount("message")).toBe(0);
    const response = await fetch(at(parts, "api/events"));
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = new EventReader(response);
    const first = await events.next();
    expect(first.event).toBe("snapshot");
    expect(first.data.agents.map((agent: { id: string }) => agent.id).sort()).toEqual(["calc", "victim"]);
    expect(space.listenerCount("message")).toBe(1);

    const before = first.data.agents.find((agent: { id: string }) => agent.id === "calc").received;
    const startedAt = Date.now();
    const calc = space.handle<Calculator>("calc");
    await calc.add({ a: 20, b: 22 });
    await calc.fail({ message: "on purpose" }).catch(() => undefined);
    const update = await events.until((event) => event.event === "update" && event.data.trace.some((line: { text: string }) => line.text.includes("[error]")));
    const texts = update.data.trace.map((line: { text: string }) => line.text).join("\n");
    // Within a few updates: batched (at most ~4 a second), not one per message.
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    const updates = [update];
    while (!updates.some((event) => event.data.agents.some((agent: { id: string; received: number }) => agent.id === "calc" && agent.received >= before + 2))) {
      updates.push(await events.until((event) => event.event === "update"));
    }
    expect(texts).toMatch(/handle-\S+ → calc: add \{ a: 20, b: 22 \}  #\S{6}/);
    expect(texts).toMatch(/calc → handle-\S+: \[error\] RangeError: on purpose/);
    expect(update.data.edges.some((edge: { from: string; to: string; rate: number }) => edge.to === "calc" && edge.rate > 0)).toBe(true);

    const detail = await getJson(at(parts, "api/agent", { id: "calc" }));
    expect(detail.lastError.error).toBe("RangeError: on purpose");
    expect(detail.lastError.stack).toContain("fail");

    await events.cancel();
    await expect.poll(() => space.listenerCount("message")).toBe(0);
  });

  it("samples heavy traffic: at most 100 trace lines an update, the rest counted as skipped", async () => {
    const events = new EventReader(await fetch(at(parts, "api/events")));
    await events.next();
    const calc = space.handle<Calculator>("calc");
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => calc.add({ a: i, b: 0 })));
    let lines = 0;
    let skipped = 0;
    const kinds = new Set<string>();
    while (lines + skipped < 4_000) {
      const { data } = await events.until((event) => event.event === "update");
      expect(data.trace.length).toBeLessThanOrEqual(100);
      // At most half of a sample is answers: they do not crowd out the requests.
      expect(data.trace.filter((line: { kind: string }) => line.kind === "response").length).toBeLessThanOrEqual(50);
      for (const line of data.trace) kinds.add(line.kind);
      lines += data.trace.length;
      skipped += data.skipped;
    }
    expect(lines + skipped).toBe(4_000); // every request and every answer, shown or counted
    expect(skipped).toBeGreaterThan(0);
    expect([...kinds].sort()).toEqual(["request", "response"]);
    await events.cancel();
  });

  it("samples by sender class: one class's flood does not hide another class's message", async () => {
    // A space of its own: the classes are those the inspector read when the page connected.
    const own = new LocalSpace();
    try {
      await own.add(Calculator, "calc");
      await own.add(Calculator, "victim");
      await own.add(Relay, "relay");
      const ownParts = partsOf(await own.openInspector({ port: 0 }));
      const events = new EventReader(await fetch(at(ownParts, "api/events")));
      await events.next();
      // One request from a Relay, then at once 2,000 from a foreground agent to a Calculator (most
      // likely in the same quarter second: the Relay's is the oldest there).
      await own.handle<Relay>("relay").relay({ to: "victim", a: 1, b: 2 });
      await Promise.all(Array.from({ length: 2_000 }, (_, i) => own.handle<Calculator>("calc").add({ a: i, b: 0 })));
      const texts: string[] = [];
      let counted = 0;
      while (counted < 4_004) {
        const { data } = await events.until((event) => event.event === "update");
        for (const line of data.trace) texts.push(line.text);
        counted += data.trace.length + data.skipped;
      }
      expect(texts.some((text) => text.startsWith("relay → victim: add"))).toBe(true);
      await events.cancel();
    } finally {
      await own.destroy();
    }
  });

  it("describes an agent: its help, its state in a debug space", async () => {
    await space.handle<Calculator>("calc").accumulate({ n: 7 });
    const response = await fetch(at(parts, "api/agent", { id: "calc" }));
    expect(response.status).toBe(200);
    const detail: any = await response.json();
    expect(detail.help.add).toMatchObject({ description: "Add two numbers", returns: { type: "number" } });
    expect(detail.state).toMatchObject({ total: 7 });
    expect(detail.row).toMatchObject({ id: "calc", className: "Calculator" });
  });

  it("refuses bad input with a 4xx and keeps serving", async () => {
    const cases: Array<[Promise<Response>, number]> = [
      [fetch(at(parts, "api/agent")), 400],
      [fetch(at(parts, "api/agent", { id: "" })), 400],
      [fetch(at(parts, "api/agent", { id: "a*b" })), 400],
      [fetch(at(parts, "api/agent", { id: "x".repeat(5_000) })), 400],
      [fetch(at(parts, "api/agent", { id: "__proto__" })), 404],
      [fetch(at(parts, "api/agent", { id: "constructor" })), 404],
      [postJson(at(parts, "api/remove"), "{not json"), 400],
      [postJson(at(parts, "api/remove"), "[]"), 400],
      [postJson(at(parts, "api/remove"), "null"), 400],
      [postJson(at(parts, "api/remove"), `{"id": 42}`), 400],
      [postJson(at(parts, "api/remove"), `{"id": "*"}`), 400],
      [postJson(at(parts, "api/remove"), `{"id": "nobody"}`), 404],
      [postJson(at(parts, "api/remove"), `{"id": "calc"}`, "text/plain"), 415],
      [postJson(at(parts, "api/remove"), JSON.stringify({ id: "calc", pad: "x".repeat(10_000) })), 413],
      [fetch(at(parts, "api/remove")), 405],
      [fetch(at(parts, "api/snapshot"), { method: "DELETE" }), 405],
    ];
    for (const [request, status] of cases) {
      const response = await request;
      expect(response.status).toBe(status);
      expect(((await response.json()) as { error: unknown }).error).toEqual(expect.any(String));
    }
    expect(space.agents.sort()).toEqual(["calc", "victim"]);
    expect((await fetch(at(parts, "api/snapshot"))).status).toBe(200);
  });

  it("removes an agent asked with the token, and shows it as removed", async () => {
    const response = await postJson(at(parts, "api/remove"), JSON.stringify({ id: "victim" }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ removed: "victim" });
    expect(space.agents).not.toContain("victim");
    const snapshot = await getJson(at(parts, "api/snapshot"));
    expect(snapshot.agents.find((agent: { id: string }) => agent.id === "victim")).toMatchObject({ state: "removed" });
  });
});

describe("the inspector's life", () => {
  it("close() frees the port", async () => {
    const space = new LocalSpace();
    try {
      const inspector = await space.openInspector();
      const { port } = new URL(inspector.url);
      const events = await fetch(at(partsOf(inspector), "api/events")); // an open stream must not hold the port
      expect(events.status).toBe(200);
      await inspector.close();
      await expect(fetch(inspector.url)).rejects.toThrow();
      await listenOn(Number(port));
    } finally {
      await space.destroy();
    }
  });

  it("destroy() closes it", async () => {
    const space = new LocalSpace();
    const inspector = await space.openInspector();
    expect((await fetch(inspector.url)).status).toBe(200);
    await space.destroy();
    await inspector.closed;
    await expect(fetch(inspector.url)).rejects.toThrow();
    await expect(space.openInspector()).rejects.toThrow("destroyed");
  });

  it("refuses a port out of range", async () => {
    const space = new LocalSpace();
    try {
      await expect(space.openInspector({ port: 70_000 })).rejects.toThrow(RangeError);
      await expect(space.openInspector({ port: 1.5 })).rejects.toThrow(RangeError);
    } finally {
      await space.destroy();
    }
  });
});

describe("the inspector of a MultiprocessSpace", () => {
  let space: MultiprocessSpace;

  afterEach(() => space.destroy());

  it("says which thread each agent runs in, with how many thread-mates", async () => {
    space = new MultiprocessSpace({ threads: 1 });
    await space.add(Calculator, "one");
    await space.add(Calculator, "two");
    await space.add(Calculator, "alone", undefined, { isolate: true });
    const inspector = await space.openInspector();
    const snapshot = await getJson(at(partsOf(inspector), "api/snapshot"));
    const rows = new Map(snapshot.agents.map((row: { id: string }) => [row.id, row]));
    expect(rows.get("one")).toMatchObject({ className: "Calculator", mates: 1, state: "running" });
    expect((rows.get("one") as { thread: string }).thread).toBe((rows.get("two") as { thread: string }).thread);
    expect(rows.get("alone")).toMatchObject({ mates: 0 });
    expect((rows.get("alone") as { thread: string }).thread).not.toBe((rows.get("one") as { thread: string }).thread);
  });

  it("shows an agent whose crash it outlives as restarting, then running again", async () => {
    space = new MultiprocessSpace();
    await space.add(Fragile, "phoenix", undefined, { restart: "on-failure", backoffMs: 1_500 });
    space.on("error", () => {}); // the crash is expected
    const inspector = await space.openInspector();
    const parts = partsOf(inspector);
    const stateOf = async (): Promise<{ state: string; restarts: number }> =>
      (await getJson(at(parts, "api/snapshot"))).agents.find((row: { id: string }) => row.id === "phoenix");
    expect(await stateOf()).toMatchObject({ state: "running", restarts: 0 });
    await space.handle<Fragile>("phoenix").exit({ code: 1 }).catch(() => undefined);
    await expect.poll(stateOf).toMatchObject({ state: "restarting" });
    await expect.poll(stateOf, { timeout: 10_000 }).toMatchObject({ state: "running", restarts: 1 });
    const detail = await getJson(at(parts, "api/agent", { id: "phoenix" }));
    expect(detail.lastError.outcome).toMatch(/^restarting it in 1500 ms/);
  });

  it("shows a crash that removed its agent as crashed, with its error, and still prints it when nobody else listens", async () => {
    space = new MultiprocessSpace();
    await space.add(Fragile, "fragile");
    const inspector = await space.openInspector();
    const parts = partsOf(inspector);
    await fetch(at(parts, "api/snapshot")); // the inspector has seen the agent
    const printed: string[] = [];
    const print = console.error;
    console.error = (line: string) => printed.push(line);
    try {
      const removed = nextEvent(space, "agent:removed");
      await space.handle<Fragile>("fragile").exit({ code: 3 }).catch(() => undefined);
      await removed;
    } finally {
      console.error = print;
    }
    expect(printed.join("\n")).toMatch(/\[agentspace\] AgentCrashedError: .*fragile.*; removing it from the space/);
    const snapshot = await getJson(at(parts, "api/snapshot"));
    expect(snapshot.agents.find((row: { id: string }) => row.id === "fragile")).toMatchObject({ state: "crashed" });
    const detail = await getJson(at(parts, "api/agent", { id: "fragile" }));
    expect(detail.lastError.error).toMatch(/^AgentCrashedError: agent "fragile" crashed/);
    expect(detail.lastError.outcome).toMatch(/^removing it from the space/);
  });
});

const probe = await probeBroker();

describeWithBroker("the inspector of an AMQPSpace", probe, () => {
  afterAll(() => deleteExchangesMade());

  it("shows this process's agents, and the remote ids they exchange messages with", async () => {
    const exchange = uniqueExchange();
    const here = new AMQPSpace({ exchange });
    const there = new AMQPSpace({ exchange });
    try {
      await Promise.all([here.connected(), there.connected()]);
      await here.add(Calculator, "near");
      await there.add(Calculator, "far");
      const inspector = await here.openInspector();
      const parts = partsOf(inspector);
      const events = new EventReader(await fetch(at(parts, "api/events")));
      expect((await events.next()).data.agents.map((row: { id: string }) => row.id)).toEqual(["near"]);
      await here.handle<Calculator>("far").add({ a: 1, b: 2 });
      await here.handle<Calculator>("near").add({ a: 3, b: 4 });
      const update = await events.until(
        (event) => event.event === "update" && event.data.trace.some((line: { text: string }) => line.text.includes("→ far: add")),
      );
      expect(update.data.edges.some((edge: { to: string }) => edge.to === "far")).toBe(true);
      await events.cancel();
    } finally {
      await Promise.all([here.destroy(), there.destroy()]);
    }
  });
});

describe("the REPL's .inspect", () => {
  it("prints the inspector's URL, which answers", async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let printed = "";
    output.on("data", (chunk: Buffer) => (printed += chunk.toString()));
    const session = await startRepl({ space: "local", input, output, terminal: false });
    try {
      input.write(".inspect\n");
      await expect.poll(() => /inspector: (http:\S+)/.exec(printed)?.[1], { timeout: 10_000 }).toBeDefined();
      const url = /inspector: (http:\S+)/.exec(printed)![1]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain("agentspace inspector");
      const snapshot = await getJson(url.replace("/?", "/api/snapshot?"));
      expect(snapshot.agents.map((row: { id: string }) => row.id)).toEqual(["me"]);
    } finally {
      session.server.close();
      await session.closed;
    }
  });
});

describe("agentspace repl --inspect", () => {
  it("opens the inspector at start and prints a URL that answers", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "repl", "--space", "local", "--inspect"], { cwd: root });
    try {
      let printed = "";
      child.stdout.on("data", (chunk: Buffer) => (printed += chunk.toString()));
      await expect.poll(() => /inspector: (http:\S+)/.exec(printed)?.[1], { timeout: 15_000 }).toBeDefined();
      const url = /inspector: (http:\S+)/.exec(printed)![1]!;
      expect((await fetch(url)).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      child.stdin.end(); // Ctrl-D: the space is destroyed, the inspector with it, and the process ends by itself
      expect(await exited).toBe(0);
      await expect(fetch(url)).rejects.toThrow();
    } finally {
      child.kill();
    }
  });
});

describe("agentspace run --inspect", () => {
  it("opens the inspector before main runs and says where on stderr, leaving stdout to main", async () => {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", "run", "examples/hello-run.ts", "--space", "local", "--inspect"],
        { cwd: root, timeout: 20_000 },
        (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });
    expect(stderr).toMatch(/^agentspace: inspector at http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}\n$/);
    expect(stdout).toContain("1 + 2 = 3");
    expect(code).toBe(0); // and it exited by itself: destroy() closed the inspector
  });
});

// The page, in a real browser: Debian's Chromium, driven by playwright-core.
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(chromiumPath);
if (!haveChromium && process.env.CI === "true") {
  describe("the inspector's page in Chromium", () => {
    it("needs Chromium", () => {
      throw new Error(`no Chromium at ${chromiumPath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH; .ci/run installs it`);
    });
  });
}

describe.runIf(haveChromium)("the inspector's page in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let space: LocalSpace;
  let inspector: Inspector;
  const dialogs: Dialog[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    space = new LocalSpace({ debug: true });
    await space.add(Calculator, "calc");
    await space.add(Calculator, "counter");
    await space.add(Relay, "relay");
    await space.add(Calculator, hostileId);
    for (let i = 0; i < 30; i++) await space.add(Calculator, `worker-${String(i).padStart(2, "0")}`);
    inspector = await space.openInspector();
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on("dialog", (dialog) => dialogs.push(dialog));
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(inspector.url);
  });

  afterAll(async () => {
    await browser?.close();
    await space?.destroy();
  });

  const row = (id: string) => page.locator(`#agents tbody tr[data-agent=${JSON.stringify(id)}]`);
  const cell = (id: string, column: string) => row(id).locator(`td[data-col="${column}"]`);

  it("shows every agent in the table, live", async () => {
    await expect.poll(() => page.locator("#agents tbody tr").count()).toBe(34);
    expect(await cell("calc", "className").textContent()).toBe("Calculator");
    expect(await cell("calc", "state").textContent()).toBe("running");
    expect(await page.locator("#connection").textContent()).toBe("live");
    expect(await page.locator("#space-kind").textContent()).toBe("LocalSpace");
  });

  it("shows an id made of markup as text, running none of it", async () => {
    expect(await cell(hostileId, "id").textContent()).toBe(hostileId);
    expect(await page.locator("#agents img").count()).toBe(0);
    await space.handle<Calculator>(hostileId).add({ a: 1, b: 1 });
    await expect.poll(() => page.locator("#trace li", { hasText: `→ ${hostileId}: add` }).count()).toBeGreaterThan(0);
    expect(await page.locator("img").count()).toBe(0);
    expect(dialogs).toEqual([]); // no alert(1)
  });

  it("shows the messages sent as trace lines, and the counters change", async () => {
    const before = Number(await cell("counter", "received").textContent());
    const relay = space.handle<Relay>("relay");
    for (let i = 0; i < 5; i++) await relay.relay({ to: "counter", a: i, b: 100 });
    await relay.shout();
    await expect.poll(() => cell("counter", "received").textContent()).toBe(String(before + 6)); // five adds and the broadcast
    await expect.poll(() => page.locator("#trace li", { hasText: "relay → counter: add { a: 4, b: 100 }" }).count()).toBe(1);
    expect(await page.locator("#trace li", { hasText: "counter → relay: [response] 104" }).count()).toBe(1);
    expect(await page.locator("#trace li.kind-broadcast", { hasText: "relay → *: heard" }).count()).toBe(1);
    // The flow draws the traffic: relay and counter as nodes, an edge between them, the broadcast apart.
    await expect.poll(() => page.locator('#flow g.node[data-node="relay"]').count()).toBe(1);
    expect(await page.locator('#flow g.node[data-node="counter"]').count()).toBe(1);
    expect(await page.locator("#flow line.edge.broadcast").count()).toBeGreaterThan(0);
  });

  it("sorts by a column, both ways", async () => {
    const before = Number(await cell("calc", "received").textContent());
    const calc = space.handle<Calculator>("calc");
    for (let i = 0; i < 20; i++) await calc.add({ a: i, b: i });
    await expect.poll(() => cell("calc", "received").textContent()).toBe(String(before + 20));
    await page.click('th button[data-sort="received"]');
    expect(await page.locator('th:has(button[data-sort="received"])').getAttribute("aria-sort")).toBe("descending");
    await expect.poll(() => page.locator("#agents tbody tr").first().getAttribute("data-agent")).toBe("calc");
    await page.click('th button[data-sort="received"]');
    expect(await page.locator('th:has(button[data-sort="received"])').getAttribute("aria-sort")).toBe("ascending");
    await expect.poll(() => page.locator("#agents tbody tr").last().getAttribute("data-agent")).toBe("calc");
    await page.click('th button[data-sort="id"]');
    await expect.poll(() => page.locator("#agents tbody tr").first().getAttribute("data-agent")).toBe(hostileId);
  });

  it("filters the table", async () => {
    await page.fill("#agent-filter", "count");
    await expect.poll(() => page.locator("#agents tbody tr").count()).toBe(1);
    expect(await page.locator("#agents tbody tr").first().getAttribute("data-agent")).toBe("counter");
    await page.fill("#agent-filter", "");
    await expect.poll(() => page.locator("#agents tbody tr").count()).toBe(34);
  });

  it("pauses and resumes the trace, and filters it by agent", async () => {
    await page.click("#trace-pause");
    expect(await page.locator("#trace-pause").textContent()).toBe("Resume");
    await space.handle<Calculator>("worker-07").add({ a: 7, b: 7 });
    await expect.poll(() => page.locator("#trace-note").textContent()).toContain("paused: 2 new lines held");
    expect(await page.locator("#trace li", { hasText: "worker-07" }).count()).toBe(0);
    await page.click("#trace-pause");
    await expect.poll(() => page.locator("#trace li", { hasText: "worker-07" }).count()).toBe(2);
    await page.fill("#trace-filter", "worker-07");
    expect(await page.locator("#trace li:visible").count()).toBe(2);
    await page.fill("#trace-filter", "");
    expect(await page.locator("#trace li:visible").count()).toBeGreaterThan(2);
  });

  it("opens an agent's detail: its help and its state", async () => {
    await space.handle<Calculator>("calc").accumulate({ n: 41 });
    await row("calc").click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("calc");
    await expect.poll(() => page.locator("#detail ul.actions").textContent()).toContain("add({ a: number, b: number }) → number");
    expect(await page.locator("#detail ul.actions").textContent()).toContain("Add two numbers");
    expect(await page.locator("#detail pre.state").textContent()).toContain(`"total": 41`);
  });

  it("removes an agent through the confirm dialog, and only when confirmed", async () => {
    await row("counter").click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("counter");
    await expect.poll(() => page.locator("#detail ul.actions").count()).toBe(1);

    page.once("dialog", (dialog) => void dialog.dismiss());
    await page.click("#detail-remove");
    await expect.poll(() => dialogs.length).toBe(1);
    expect(dialogs[0]!.type()).toBe("confirm");
    expect(dialogs[0]!.message()).toContain(`Remove agent "counter"`);
    expect(space.agents).toContain("counter");

    page.once("dialog", (dialog) => void dialog.accept());
    await page.click("#detail-remove");
    await expect.poll(() => space.agents.includes("counter")).toBe(false);
    await expect.poll(() => page.locator("#detail .notice").textContent()).toBe(`removed "counter"`);
    await expect.poll(() => cell("counter", "state").textContent()).toBe("removed");
    await page.click("#detail-close");
  });

  it("stays readable: a screenshot, and no script errors", async () => {
    // Some traffic so that the flow, the trace and the sparklines have something to show.
    const relay = space.handle<Relay>("relay");
    for (let round = 0; round < 12; round++) {
      await Promise.all([
        relay.relay({ to: "calc", a: round, b: 1 }),
        ...Array.from({ length: 8 }, (_, i) => space.handle<Calculator>(`worker-${String((round + i) % 30).padStart(2, "0")}`).add({ a: i, b: round })),
      ]);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await row("calc").click();
    await expect.poll(() => page.locator("#detail ul.actions").count()).toBe(1);
    await mkdir(`${root}/test-results`, { recursive: true });
    await page.screenshot({ path: `${root}/test-results/inspector.png`, fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});

describe.runIf(haveChromium)("the inspector's page in Chromium, at 5,000 agents", () => {
  let browser: Browser;
  let page: Page;
  let space: LocalSpace;

  beforeAll(async () => {
    space = new LocalSpace();
    await space.add(Coordinator, "coord");
    for (let i = 0; i < 5_000; i++) await space.add(Person, `p${i}`, { sick: i % 10 === 0 });
    const inspector = await space.openInspector();
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu", "--no-first-run"] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(inspector.url);
    // Counted through a locator: a string predicate is evaluated in the page, and the page's CSP forbids eval.
    const rows = page.locator("#agents tbody tr");
    const deadline = Date.now() + 60_000;
    while ((await rows.count()) !== 300) {
      if (Date.now() > deadline) throw new Error(`the page shows ${await rows.count()} agent rows, not 300, after 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await space?.destroy();
  });

  const people = Array.from({ length: 5_000 }, (_, i) => `p${i}`);

  it("totals the agents by class and state at the top", async () => {
    const person = page.locator('#summary tr[data-class="Person"]');
    await expect.poll(() => person.locator("td").first().textContent()).toBe("5,000");
    expect(await person.locator('td[data-state="running"]').textContent()).toBe("5,000");
    expect(await page.locator('#summary tr[data-class="Coordinator"] td').first().textContent()).toBe("1");
  });

  it("sorts ids in natural order: p2 before p10", async () => {
    const first = await page.locator("#agents tbody tr").evaluateAll((rows) => rows.slice(0, 5).map((row) => row.getAttribute("data-agent")));
    expect(first).toEqual(["coord", "p0", "p1", "p2", "p3"]);
  });

  it("draws the flow between classes, and a class's busiest agents on a click", async () => {
    const census = await space.handle<Coordinator>("coord").census({ people });
    expect(Object.keys(census.values)).toHaveLength(5_000);
    await expect.poll(() => page.locator('#flow g.node[data-node="group:Person"]').count()).toBe(1);
    expect(await page.locator('#flow g.node[data-node="group:Coordinator"]').count()).toBe(1);
    // The edges come with the update that has seen the census's traffic, which may follow the one that drew the groups.
    await expect.poll(() => page.locator("#flow line.edge").count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.locator("#flow-mode").textContent()).toBe("By agent");
    await page.click('#flow g.node[data-node="group:Person"]');
    await expect.poll(() => page.locator('#flow g.node:not(.group)[data-node^="p"]').count()).toBe(24);
    expect(await page.locator("#flow-note").textContent()).toContain("the busiest Person agents");
  });

  it("hides the answers in the trace on asking, and filters it by class", async () => {
    await space.handle<Coordinator>("coord").census({ people: people.slice(0, 50) });
    await expect.poll(() => page.locator("#trace li.kind-response").count()).toBeGreaterThan(0);
    await page.uncheck("#trace-answers");
    expect(await page.locator("#trace li.kind-response:visible").count()).toBe(0);
    expect(await page.locator("#trace li:visible").count()).toBeGreaterThan(0);
    await page.fill("#trace-filter", "coordinator");
    expect(await page.locator("#trace li:visible").count()).toBeGreaterThan(0);
    await page.fill("#trace-filter", "");
    await page.check("#trace-answers");
  });

  it("shows an agent's numbers in its detail as its row and the space's stats have them, live", async () => {
    await page.fill("#agent-filter", "coord");
    await page.locator('#agents tbody tr[data-agent="coord"]').click();
    await expect.poll(() => page.locator("#detail-title").textContent()).toBe("coord");
    await space.handle<Coordinator>("coord").ask({ id: "p3" });
    const stats = () => space.stats().coord!;
    await expect.poll(() => page.locator("#detail dl.facts").textContent()).toContain(`received / sent${stats().received.toLocaleString("en-US")} / ${stats().sent.toLocaleString("en-US")}`);
    await mkdir(`${root}/test-results`, { recursive: true });
    await page.screenshot({ path: `${root}/test-results/inspector-5000.png`, fullPage: true });
    await page.fill("#agent-filter", "");
  });
});

function listenOn(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}
