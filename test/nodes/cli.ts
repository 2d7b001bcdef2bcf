import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { Echo } from "../fixtures/node-agents.js";
import { describeWithRedis, probeRedis } from "../helpers/redis.js";
import { useCluster } from "./cluster.js";

const probe = await probeRedis();
const root = fileURLToPath(new URL("../..", import.meta.url));

function agentspace(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: root, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describeWithRedis("agentspace node and agentspace nodes", probe, () => {
  const cluster = useCluster();

  it("prints the nodes, their load and their agents as a table", { timeout: 60_000 }, async () => {
    const c = cluster();
    await c.start(["alpha", "beta"], 5);
    await c.manager.launch(Echo, "e-1", undefined, { node: "alpha", restart: "always" });
    const { code, stdout } = await agentspace("nodes", "--namespace", c.namespace);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^NODE\s+STATE\s+AGENTS\s+HOST\s+PID\s+CORES\s+MEMORY\s+CLASSES/);
    expect(stdout).toMatch(/\nalpha\s+up\s+1\/5\s/);
    expect(stdout).toMatch(/\nbeta\s+up\s+0\/5\s/);
    expect(stdout).toMatch(/\ne-1\s+Echo\s+always\s+alpha/);
    const json = JSON.parse((await agentspace("nodes", "--namespace", c.namespace, "--json")).stdout) as { nodes: Array<{ name: string; agents: unknown[] }> };
    expect(json.nodes.map((node) => [node.name, node.agents.length])).toEqual([["alpha", 1], ["beta", 0]]);
  });

  it("refuses a node command line that makes no sense, with exit code 2", async () => {
    const none = await agentspace("node", "--name", "x");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("node needs at least one module");
    const capacity = await agentspace("node", "test/fixtures/node-agents.ts", "--capacity", "lots");
    expect(capacity.code).toBe(2);
    expect(capacity.stderr).toContain('--capacity takes a positive whole number, not "lots"');
    const name = await agentspace("node", "test/fixtures/node-agents.ts", "--name", "no spaces");
    expect(name.code).toBe(2);
    expect(name.stderr).toContain("a node name is 1–100 letters");
    const port = await agentspace("node", "test/fixtures/node-agents.ts", "--direct-port", "70000");
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--direct-port takes a port number (0–65535), not "70000"');
    const noPrefix = await agentspace("node", "test/fixtures/wallet.ts", "--virtual", "Wallet");
    expect(noPrefix.code).toBe(2);
    expect(noPrefix.stderr).toContain("--virtual takes <Class>=<prefix>, as in --virtual Account=acct:");
    const unknown = await agentspace("node", "test/fixtures/wallet.ts", "--virtual", "Purse=p:");
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("Purse is not among BrokenWallet, Wallet");
    const help = await agentspace("node", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: agentspace node <module…>");
  });
});
