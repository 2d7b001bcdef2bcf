import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";

/** A free TCP port on 127.0.0.1 (bound, then let go). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function ask(port: number, args: string[]): Promise<unknown> {
  const client = createClient({ socket: { host: "127.0.0.1", port, reconnectStrategy: false }, RESP: 2 });
  client.on("error", () => {});
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/**
 * A Redis primary, one replica and three sentinels on localhost ports of
 * their own (`redis-server` and `redis-server --sentinel`), nothing on disk
 * but their config files: what Sentinel failover tests run against.
 */
export class SentinelGroup {
  readonly name = "mymaster";
  readonly #dir = mkdtempSync(join(tmpdir(), "agentspace-sentinel-"));
  readonly #processes = new Map<number, ChildProcess>();
  primary = 0;
  replica = 0;
  sentinels: number[] = [];

  static async start(): Promise<SentinelGroup> {
    const group = new SentinelGroup();
    await group.#start();
    return group;
  }

  /** The sentinels, as `sentinel.sentinels` takes them. */
  get nodes(): Array<{ host: string; port: number }> {
    return this.sentinels.map((port) => ({ host: "127.0.0.1", port }));
  }

  async #start(): Promise<void> {
    this.primary = await freePort();
    this.replica = await freePort();
    // No delay before the first sync (Redis waits 5 s by default, for more replicas to come).
    this.#server(this.primary, ["--repl-diskless-sync-delay", "0"]);
    this.#server(this.replica, ["--replicaof", "127.0.0.1", String(this.primary), "--repl-diskless-sync-delay", "0"]);
    await this.#answers(this.primary);
    await this.#answers(this.replica);
    // In sync: what the primary takes from now on streams to the replica.
    while (!String(await ask(this.replica, ["INFO", "replication"])).includes("master_link_status:up")) await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const config = join(this.#dir, `sentinel-${port}.conf`);
      writeFileSync(
        config,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `sentinel monitor ${this.name} 127.0.0.1 ${this.primary} 2`,
          `sentinel down-after-milliseconds ${this.name} 1000`,
          `sentinel failover-timeout ${this.name} 5000`,
          `sentinel parallel-syncs ${this.name} 1`,
          "",
        ].join("\n"),
      );
      this.#spawn(port, [config, "--sentinel"]);
      this.sentinels.push(port);
    }
    for (const port of this.sentinels) await this.#answers(port);
    // Ready once every sentinel knows the replica (it learns it from the primary) and the other sentinels.
    for (const port of this.sentinels) {
      for (;;) {
        const replicas = (await ask(port, ["SENTINEL", "REPLICAS", this.name]).catch(() => [])) as unknown[];
        const sentinels = (await ask(port, ["SENTINEL", "SENTINELS", this.name]).catch(() => [])) as unknown[];
        if (replicas.length >= 1 && sentinels.length >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** Which port the sentinels name as the primary now. */
  async primaryPort(): Promise<number> {
    const [, port] = (await ask(this.sentinels[0]!, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", this.name])) as [string, string];
    return Number(port);
  }

  /** SIGKILLs the process on `port`. */
  kill(port: number): Promise<void> {
    const child = this.#processes.get(port);
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    return exited;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#processes.keys()].map((port) => this.kill(port)));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #server(port: number, args: string[]): void {
    this.#spawn(port, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...args]);
  }

  #spawn(port: number, args: string[]): void {
    const child = spawn("redis-server", args, { stdio: "ignore" });
    this.#processes.set(port, child);
  }

  async #answers(port: number): Promise<void> {
    for (;;) {
      if ((await ask(port, ["PING"]).catch(() => undefined)) === "PONG") return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
