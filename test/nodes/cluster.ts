import { afterEach } from "vitest";
import { RedisSpace, type Manager } from "../../src/index.js";
import { ChildScript } from "../helpers/child.js";
import { uniqueNamespace } from "../helpers/redis.js";

const cli = new URL("../../src/cli/main.ts", import.meta.url);
const agents = new URL("../fixtures/node-agents.ts", import.meta.url).pathname;
const special = new URL("../fixtures/node-special.ts", import.meta.url).pathname;

/** Short leases (yet long enough for a node process stalled by a busy shared machine): a killed node is seen as dead within seconds. */
export const LEASE_MS = 2_000;

/** A real `agentspace node` process. */
export class NodeProcess {
  readonly child: ChildScript;

  constructor(
    readonly name: string,
    namespace: string,
    capacity: number,
    withSpecial: boolean,
    direct = false,
    extra: string[] = [],
  ) {
    const modules = withSpecial ? [agents, special] : [agents];
    const args = ["node", ...modules, "--namespace", namespace, "--name", name, "--capacity", String(capacity), "--lease-ms", String(LEASE_MS), ...extra];
    if (direct) args.push("--direct");
    this.child = new ChildScript(cli, args);
  }

  get pid(): number {
    return this.child.process.pid!;
  }

  ready(): Promise<void> {
    return this.child.waitFor(`[node ${this.name}] ready`);
  }

  /** Sends `signal` and waits for the exit code. */
  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.child.process.exitCode === null && this.child.process.signalCode === null) this.child.process.kill(signal);
    return this.child.exited;
  }
}

/** Node processes and a manager on one namespace; every process is killed after each test, whatever happened. */
export class Cluster {
  readonly namespace = uniqueNamespace("nodes");
  readonly nodes = new Map<string, NodeProcess>();
  readonly space: RedisSpace;
  readonly manager: Manager;

  /** With `direct`, the nodes and this process talk straight over TCP. */
  constructor(readonly direct = false) {
    this.space = new RedisSpace({ namespace: this.namespace, tuning: { leaseMs: LEASE_MS }, direct });
    this.manager = this.space.manager();
  }

  /** Starts nodes (capacity each, with `args` on their command lines) and waits until all are ready. */
  async start(names: string[], capacity: number, options: { special?: string; args?: string[] } = {}): Promise<NodeProcess[]> {
    const started = names.map((name) => {
      const node = new NodeProcess(name, this.namespace, capacity, options.special === name, this.direct, options.args);
      this.nodes.set(name, node);
      return node;
    });
    await Promise.all(started.map((node) => node.ready()));
    return started;
  }

  /** How many agents each live node holds, by name. */
  async loads(): Promise<Record<string, number>> {
    const loads: Record<string, number> = {};
    for (const node of await this.manager.nodes()) if (node.live) loads[node.name] = node.agents.length;
    return loads;
  }

  /** Where agent `id` is placed now. */
  async nodeOf(id: string): Promise<string | undefined> {
    return (await this.manager.nodes()).find((node) => node.agents.some((agent) => agent.id === id))?.name;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((node) => node.kill("SIGKILL")));
    await this.space.destroy();
  }
}

/** A Cluster per test, stopped after it. */
export function useCluster(): (direct?: boolean) => Cluster {
  let current: Cluster | undefined;
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  return (direct = false) => (current = new Cluster(direct));
}

/** Polls `condition` until it holds or `ms` pass (then fails with `what`). */
export async function until(what: string, condition: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
