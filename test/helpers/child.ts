import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A TypeScript script running in a child Node process, whose output a test can wait on. */
export class ChildScript {
  readonly process: ChildProcess;
  output = "";
  #waiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;

  constructor(script: URL, args: string[], env: Record<string, string> = {}) {
    this.process = spawn(process.execPath, ["--import", "tsx", fileURLToPath(script), ...args], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    const collect = (chunk: Buffer) => {
      this.output += chunk.toString();
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.process.stdout!.on("data", collect);
    this.process.stderr!.on("data", collect);
    this.exited = new Promise((resolve) => this.process.on("exit", (code) => resolve(code)));
  }

  /** Resolves once the output contains `text` (the test's own timeout bounds the wait). */
  async waitFor(text: string): Promise<void> {
    while (!this.output.includes(text)) {
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Closes its stdin (the scripts here then clean up and exit) and waits for the exit code. */
  async end(): Promise<number | null> {
    this.process.stdin!.end();
    return this.exited;
  }
}
