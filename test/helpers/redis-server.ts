import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { createClient } from "redis";
import type { RedisProbe } from "./redis.js";

/** A suite that starts Redis servers of its own needs the binary too: without it, `probe` says why it cannot run. */
export function needRedisServer(probe: RedisProbe): RedisProbe {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
  } catch {
    Object.assign(probe, { available: false, reason: "no redis-server binary on the PATH to start a private Redis with" });
  }
  return probe;
}

/** What a server printed last, at most: enough to say why it would not start. */
const OUTPUT_KEPT = 4_000;

/**
 * A `redis-server` process of a test's own, on `port` of 127.0.0.1, with
 * `args` on its command line (a data directory, `--appendonly yes`, a
 * sentinel config with `--sentinel`, …). Started again on the same port and
 * files as often as a test likes.
 */
export class RedisServer {
  #process: ChildProcess | undefined;
  #output = "";

  constructor(
    readonly port: number,
    readonly args: ReadonlyArray<string> = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Resolves once it answers and has loaded its data; rejects, with what it printed, when it exits first. */
  async start(): Promise<void> {
    const server = spawn("redis-server", [...this.args, "--port", String(this.port), "--bind", "127.0.0.1"], { stdio: ["ignore", "pipe", "pipe"] });
    this.#process = server;
    this.#output = "";
    const keep = (chunk: Buffer) => (this.#output = (this.#output + chunk.toString()).slice(-OUTPUT_KEPT));
    server.stdout!.on("data", keep);
    server.stderr!.on("data", keep);
    let exited = false;
    server.once("exit", () => (exited = true));
    for (;;) {
      if (exited) throw new Error(`redis-server on port ${this.port} exited before it was ready: ${this.#output}`);
      // It answers while still loading its append-only file: ready once that is done (a sentinel reports no loading).
      const info = await this.#ask(["INFO", "persistence"]);
      if (typeof info === "string" && !info.includes("loading:1")) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGKILL: nothing is written out. */
  kill(): Promise<void> {
    return this.#end("SIGKILL");
  }

  /** A clean shutdown (SIGTERM): Redis writes its append-only file out and exits. */
  stop(): Promise<void> {
    return this.#end("SIGTERM");
  }

  async #end(signal: NodeJS.Signals): Promise<void> {
    const server = this.#process;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill(signal);
    await exited;
  }

  async #ask(args: string[]): Promise<unknown> {
    const client = createClient({ url: this.url, RESP: 2, socket: { reconnectStrategy: false } });
    client.on("error", () => {});
    try {
      await client.connect();
      return await client.sendCommand(args);
    } catch {
      return undefined;
    } finally {
      if (client.isOpen) client.destroy();
    }
  }
}
