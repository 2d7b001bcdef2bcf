import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { freePort } from "./free-port.js";
import { RedisServer } from "./redis-server.js";

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
  readonly #servers = new Map<number, RedisServer>();
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
    await this.#server(this.primary, ["--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"]);
    await this.#server(this.replica, ["--save", "", "--appendonly", "no", "--replicaof", "127.0.0.1", String(this.primary), "--repl-diskless-sync-delay", "0"]);
    // In sync: what the primary takes from now on streams to the replica.
    while (!String(await ask(this.replica, ["INFO", "replication"])).includes("master_link_status:up")) await new Promise((resolve) => setTimeout(resolve, 50));
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const config = join(this.#dir, `sentinel-${port}.conf`);
      writeFileSync(
        config,
        [
          `sentinel monitor ${this.name} 127.0.0.1 ${this.primary} 2`,
          `sentinel down-after-milliseconds ${this.name} 1000`,
          `sentinel failover-timeout ${this.name} 5000`,
          `sentinel parallel-syncs ${this.name} 1`,
          "",
        ].join("\n"),
      );
      await this.#server(port, [config, "--sentinel"]);
      this.sentinels.push(port);
    }
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

  /** SIGKILLs the server on `port`. */
  kill(port: number): Promise<void> {
    return this.#servers.get(port)?.kill() ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#servers.values()].map((server) => server.kill()));
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #server(port: number, args: string[]): Promise<void> {
    const server = new RedisServer(port, args);
    this.#servers.set(port, server);
    await server.start();
  }
}
