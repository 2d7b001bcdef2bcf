import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import type { AsyncCompleter } from "node:readline";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRepl, type AgentspaceRepl } from "../src/cli/repl.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const prompt = "agentspace> ";
// Every wait below ends on output; this bound only turns a hang into a failure that shows the output.
const waitBoundMs = 20_000;

/**
 * The real REPL in a child process, run from source as a user would run the
 * built bin. Piped stdin is not a terminal: no echo, no colour, and each
 * evaluation ends with a new prompt.
 */
class ReplProcess {
  #exited: Promise<number | null>;
  #child: ChildProcessWithoutNullStreams;
  #output = "";
  #read = 0;
  #onOutput = new Set<() => void>();

  constructor(args: string[]) {
    this.#child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "repl", ...args], { cwd: root });
    const take = (chunk: Buffer): void => {
      this.#output += chunk.toString();
      for (const check of this.#onOutput) check();
    };
    this.#child.stdout.on("data", take);
    this.#child.stderr.on("data", take);
    this.#exited = new Promise((resolve) => this.#child.on("exit", (code) => resolve(code)));
  }

  /** Resolves with the output from where the last wait ended up to and including `expected`. */
  waitFor(expected: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const at = this.#output.indexOf(expected, this.#read);
        if (at < 0) return;
        const end = at + expected.length;
        const seen = this.#output.slice(this.#read, end);
        this.#read = end;
        done();
        resolve(seen);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${JSON.stringify(expected)} in the REPL's output:\n${this.#output.slice(this.#read)}`));
      }, waitBoundMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#onOutput.delete(check);
      };
      this.#onOutput.add(check);
      check();
    });
  }

  /** Types one line and resolves with what the REPL printed for it, up to its next prompt. */
  async enter(line: string): Promise<string> {
    this.#child.stdin.write(`${line}\n`);
    return (await this.waitFor(prompt)).slice(0, -prompt.length);
  }

  /** Ctrl-D (the end of input); resolves with the exit code once the REPL has exited by itself. */
  endInput(): Promise<number | null> {
    this.#child.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the REPL is still running: something was left alive\n${this.#output}`)), waitBoundMs);
    });
    return Promise.race([this.#exited, hung]).finally(() => clearTimeout(timer));
  }

  kill(): void {
    this.#child.kill();
  }
}

describe.each(["multiprocess", "local"])("agentspace repl on a %s space", (kind) => {
  let repl: ReplProcess;

  beforeAll(async () => {
    repl = new ReplProcess(["examples/calculator.ts", "--space", kind]);
    const banner = await repl.waitFor(prompt);
    expect(banner).toContain("in scope: space, me, agentspace, Calculator");
    expect(await repl.enter(`await space.add(Calculator, "calc")`)).toBe("undefined\n");
  });

  afterAll(() => repl.kill()); // only if a test failed before Ctrl-D

  it("answers a request made through a handle, with top-level await", async () => {
    expect(await repl.enter(`await space.handle("calc").add({ a: 1, b: 2 })`)).toBe("3\n");
  });

  it(".agents lists the agent ids, one per line", async () => {
    expect((await repl.enter(".agents")).split("\n")).toEqual(["me", "calc", ""]);
  });

  it(".help <id> lists the agent's actions with their descriptions", async () => {
    const help = await repl.enter(".help calc");
    expect(help).toMatch(/^add\(\{ a: number, b: number \}\) → number +Add two numbers$/m);
    expect(help).toMatch(/^accumulate\(\{ n: number \}\) → number +Add n to the running total and return it$/m);
    expect(help).toContain("built in: help, inspect, eval");
  });

  it("inspect shows the state an action changed", async () => {
    expect(await repl.enter(`await space.handle("calc").accumulate({ n: 5 })`)).toBe("5\n");
    expect(await repl.enter(`await space.handle("calc").inspect()`)).toContain("total: 5");
  });

  it("eval runs code inside the agent (the REPL opens debug)", async () => {
    expect(await repl.enter(`await space.handle("calc").eval({ code: "this.total * 2" })`)).toBe("10\n");
  });

  it("me is a foreground agent that can request", async () => {
    const line = `await me.request({ to: "calc", action: { name: "add", args: { a: 20, b: 22 } } })`;
    expect(await repl.enter(line)).toBe("42\n");
  });

  it(".trace on prints each routed message on one line, .trace off stops", async () => {
    expect(await repl.enter(".trace on")).toBe("trace is on\n");
    const traced = await repl.enter(`await me.request({ to: "calc", action: { name: "add", args: { a: 2, b: 3 } } })`);
    expect(traced).toMatch(/^trace me → calc: add \{ a: 2, b: 3 \}  #\S{6}$/m);
    expect(traced).toMatch(/^trace calc → me: \[response\] 5  ↩ #\S{6}$/m);
    const failed = await repl.enter(`await space.handle("calc").divide({ a: 1, b: 0 }).catch((error) => error.message)`);
    expect(failed).toMatch(/^trace handle-\S+ → calc: divide \{ a: 1, b: 0 \}/m);
    expect(failed).toMatch(/^trace calc → handle-\S+: \[error\] RangeError: cannot divide by zero/m);
    expect(await repl.enter(".trace off")).toBe("trace is off\n");
    expect(await repl.enter(`await space.handle("calc").add({ a: 1, b: 1 })`)).toBe("2\n");
  });

  it("Ctrl-D destroys the space and exits with 0, leaving no worker behind", async () => {
    // A worker or port left alive would keep the child running: it exits by itself only if nothing is left.
    expect(await repl.endInput()).toBe(0);
  });
});

describe("agentspace repl, leaving early", () => {
  it("Ctrl-D while an agent is still starting lets it start, then removes it with the rest", async () => {
    const repl = new ReplProcess(["examples/calculator.ts"]);
    try {
      await repl.waitFor(prompt);
      expect(await repl.enter(`space.add(Calculator, "late"); "adding"`)).toBe("'adding'\n"); // not awaited
      expect(await repl.endInput()).toBe(0);
    } finally {
      repl.kill();
    }
  });
});

describe("agentspace repl --no-debug", () => {
  it("keeps eval and inspect closed", async () => {
    const repl = new ReplProcess(["examples/calculator.ts", "--no-debug"]);
    try {
      expect(await repl.waitFor(prompt)).toContain("no debug: inspect and eval are closed");
      await repl.enter(`await space.add(Calculator, "calc")`);
      const denied = await repl.enter(`await space.handle("calc").eval({ code: "this.total" })`);
      expect(denied).toContain(`PermissionDeniedError: "calc.eval" not permitted`);
      const inspected = await repl.enter(`await space.handle("calc").inspect()`);
      expect(inspected).toContain(`PermissionDeniedError: "calc.inspect" not permitted`);
      expect(await repl.enter(".help calc")).toContain("built in: help (inspect and eval are closed: --no-debug)");
      expect(await repl.endInput()).toBe(0);
    } finally {
      repl.kill();
    }
  });
});

/** Asks the REPL's completer, as the Tab key does. */
function complete(session: AgentspaceRepl, line: string): Promise<[string[], string]> {
  const completer = session.server.completer as AsyncCompleter;
  return new Promise((resolve, reject) => completer(line, (error, result) => (error ? reject(error) : resolve(result!))));
}

/** Evaluates a line in the REPL as if typed, and resolves once its prompt is back. */
function evaluate(session: AgentspaceRepl, input: PassThrough, output: PassThrough, line: string): Promise<void> {
  return new Promise((resolve) => {
    const onData = (chunk: Buffer): void => {
      if (!chunk.toString().endsWith(prompt)) return;
      output.off("data", onData);
      resolve();
    };
    output.on("data", onData);
    input.write(`${line}\n`);
  });
}

// Tab needs a terminal, which a piped child does not have: this REPL runs in
// this process, on streams, and its completer is asked as the Tab key asks it.
describe("tab completion in the repl", () => {
  const input = new PassThrough();
  const output = new PassThrough();
  let session: AgentspaceRepl;

  beforeAll(async () => {
    session = await startRepl({ modules: ["examples/calculator.ts"], space: "local", input, output, terminal: false });
    output.resume();
    await evaluate(session, input, output, `await space.add(Calculator, "calc")`);
    await evaluate(session, input, output, `await space.add(Calculator, "counter")`);
  });

  afterAll(async () => {
    session.server.close();
    await session.closed;
  });

  it("completes agent ids inside space.handle(\"…", async () => {
    expect(await complete(session, `await space.handle("ca`)).toEqual([["calc"], "ca"]);
    expect(await complete(session, `space.handle('c`)).toEqual([["calc", "counter"], "c"]);
  });

  it("completes agent ids in a message's to", async () => {
    expect(await complete(session, `me.request({ to: "co`)).toEqual([["counter"], "co"]);
  });

  it("completes action names on a handle, built-in ones included, from the agent's help", async () => {
    expect(await complete(session, `await space.handle("calc").a`)).toEqual([["accumulate", "add"], "a"]);
    const everything = ["accumulate", "add", "divide", "eval", "help", "inspect"];
    expect(await complete(session, `space.handle("calc").`)).toEqual([everything, ""]);
  });

  it("completes action names on a variable holding a handle", async () => {
    await evaluate(session, input, output, `const calc = space.handle("calc")`);
    expect(await complete(session, `await calc.ins`)).toEqual([["inspect"], "ins"]);
  });

  it("leaves everything else to the REPL's own completion", async () => {
    const [candidates] = await complete(session, "spa");
    expect(candidates).toContain("space");
  });
});
