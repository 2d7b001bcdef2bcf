/** A real `agentspace exchange` process for the tests, on a free port; stopped with SIGTERM. */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const cli = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));

export interface ExchangeProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export async function startExchangeProcess(args: string[] = []): Promise<ExchangeProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", cli, "exchange", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening at (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => reject(new Error(`agentspace exchange exited (${code}) before it listened:\n${output}`)));
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
