/**
 * The REPL at a real terminal (tmux): what agents print in their worker
 * threads, arriving while it waits at its prompt, is printed above the
 * prompt, not after it.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/**
 * Each test has a tmux server of its own (its own socket, `-L`): a new session
 * on the server whose last session just ended can meet that server exiting
 * ("server exited unexpectedly").
 */
let terminals = 0;
class Terminal {
  readonly #socket = `agentspace-repl-${process.pid}-${++terminals}`;

  constructor(command: string) {
    this.tmux("new-session", "-d", "-s", "repl", "-x", "160", "-y", "40", command);
  }

  tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.#socket, ...args], { encoding: "utf8" });
  }

  keys(...keys: string[]): void {
    this.tmux("send-keys", "-t", "repl", ...keys);
  }

  screen(): string[] {
    return this.tmux("capture-pane", "-p", "-t", "repl").split("\n");
  }

  /** Waits, looking at the screen every 50 ms, until `seen` holds; the test's timeout bounds it. */
  async until(seen: (lines: string[]) => boolean): Promise<string[]> {
    for (;;) {
      const lines = this.screen();
      if (seen(lines)) return lines;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  close(): void {
    try {
      this.tmux("kill-server");
    } catch {
      // already gone: its last session ended
    }
  }
}

const open: Terminal[] = [];
const repl = (fixture: string): Terminal => {
  const command = `cd ${JSON.stringify(root)} && NO_COLOR=1 ${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts repl ${fixture}`;
  const terminal = new Terminal(command);
  open.push(terminal);
  return terminal;
};

describe.skipIf(!hasTmux)("agentspace repl at a terminal", () => {
  afterEach(() => {
    for (const terminal of open.splice(0)) terminal.close();
  });

  it("prints a worker's console output above the prompt, as Node's REPL does", async () => {
    const terminal = repl("test/fixtures/talker.ts");
    // capture-pane leaves out trailing spaces: the prompt reads "agentspace>".
    await terminal.until((lines) => lines.some((line) => line.startsWith("agentspace>")));
    terminal.keys(`await space.add(Talker, "t"); await space.handle("t").later({ lines: 3 })`, "Enter");
    const lines = await terminal.until((shown) => shown.some((line) => line.includes("[t] line 3")));
    const shown = lines.filter((line) => line.trim() !== "");
    expect(shown.filter((line) => line.startsWith("[t] line"))).toEqual(["[t] line 1", "[t] line 2", "[t] line 3"]);
    expect(shown.some((line) => line.includes("agentspace> [t]"))).toBe(false);
    expect(shown.at(-1)).toBe("agentspace>");
    terminal.keys("C-d");
  }, 60_000);

  it("leaves no stale preview after a Tab completes an agent id or an action, as plain node leaves none", async () => {
    // Without colours the REPL writes its preview as " // <rest>".
    const terminal = repl("test/fixtures/calculator.ts");
    const prompt = (lines: string[]) => lines.filter((line) => line.startsWith("agentspace>")).at(-1);
    await terminal.until((lines) => prompt(lines) === "agentspace>");
    terminal.keys(`await space.add(Calculator, "coordinator")`, "Enter");
    await terminal.until((lines) => lines.filter((line) => line.startsWith("agentspace>")).length === 2);
    terminal.keys("-l", `space.handle("coord`);
    await terminal.until((lines) => prompt(lines) === `agentspace> space.handle("coord // inator`);
    terminal.keys("Tab");
    await terminal.until((lines) => prompt(lines)?.startsWith(`agentspace> space.handle("coordinator`) === true);
    terminal.keys("-l", `").ad`);
    await terminal.until((lines) => prompt(lines) === `agentspace> space.handle("coordinator").ad // d`);
    terminal.keys("Tab");
    await terminal.until((lines) => prompt(lines)?.startsWith(`agentspace> space.handle("coordinator").add`) === true);
    // The previews asked for before each Tab are answered just after it: a grace for one to be drawn (none must be).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(prompt(terminal.screen())).toBe(`agentspace> space.handle("coordinator").add`);
    terminal.keys("C-c", "C-d");
  }, 60_000);
});
