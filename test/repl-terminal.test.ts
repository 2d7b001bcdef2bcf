/**
 * The REPL at a real terminal (tmux): what agents print in their worker
 * threads, arriving while it waits at its prompt, is printed above the
 * prompt, not after it.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const session = `agentspace-repl-${process.pid}`;
const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const tmux = (...args: string[]): string => execFileSync("tmux", args, { encoding: "utf8" });
const screen = (): string[] => tmux("capture-pane", "-p", "-t", session).split("\n");

/** Waits, looking at the screen every 50 ms, until `seen` holds; the test's timeout bounds it. */
async function until(seen: (lines: string[]) => boolean): Promise<string[]> {
  for (;;) {
    const lines = screen();
    if (seen(lines)) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!hasTmux)("agentspace repl at a terminal", () => {
  afterAll(() => {
    try {
      tmux("kill-session", "-t", session);
    } catch {
      // already gone
    }
  });

  it("prints a worker's console output above the prompt, as Node's REPL does", async () => {
    const command = `cd ${JSON.stringify(root)} && NO_COLOR=1 ${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts repl test/fixtures/talker.ts`;
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", command);
    // capture-pane leaves out trailing spaces: the prompt reads "agentspace>".
    await until((lines) => lines.some((line) => line.startsWith("agentspace>")));
    tmux("send-keys", "-t", session, `await space.add(Talker, "t"); await space.handle("t").later({ lines: 3 })`, "Enter");
    const lines = await until((shown) => shown.some((line) => line.includes("[t] line 3")));
    const shown = lines.filter((line) => line.trim() !== "");
    expect(shown.filter((line) => line.startsWith("[t] line"))).toEqual(["[t] line 1", "[t] line 2", "[t] line 3"]);
    expect(shown.some((line) => line.includes("agentspace> [t]"))).toBe(false);
    expect(shown.at(-1)).toBe("agentspace>");
    tmux("send-keys", "-t", session, "C-d");
  }, 60_000);

  it("leaves no stale preview after a Tab completes an agent id or an action, as plain node leaves none", async () => {
    tmux("kill-session", "-t", session);
    // Without colours the REPL writes its preview as " // <rest>".
    const command = `cd ${JSON.stringify(root)} && NO_COLOR=1 ${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts repl test/fixtures/calculator.ts`;
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "40", command);
    const prompt = (lines: string[]) => lines.filter((line) => line.startsWith("agentspace>")).at(-1);
    await until((lines) => prompt(lines) === "agentspace>");
    tmux("send-keys", "-t", session, `await space.add(Calculator, "coordinator")`, "Enter");
    await until((lines) => lines.filter((line) => line.startsWith("agentspace>")).length === 2);
    tmux("send-keys", "-t", session, "-l", `space.handle("coord`);
    await until((lines) => prompt(lines) === `agentspace> space.handle("coord // inator`);
    tmux("send-keys", "-t", session, "Tab");
    await until((lines) => prompt(lines)?.startsWith(`agentspace> space.handle("coordinator`) === true);
    tmux("send-keys", "-t", session, "-l", `").ad`);
    await until((lines) => prompt(lines) === `agentspace> space.handle("coordinator").ad // d`);
    tmux("send-keys", "-t", session, "Tab");
    await until((lines) => prompt(lines)?.startsWith(`agentspace> space.handle("coordinator").add`) === true);
    // The previews asked for before each Tab are answered just after it: a grace for one to be drawn (none must be).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(prompt(screen())).toBe(`agentspace> space.handle("coordinator").add`);
    tmux("send-keys", "-t", session, "C-c", "C-d");
  }, 60_000);
});
