import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AsyncCompleter } from "node:readline";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRepl, type AgentspaceRepl } from "../src/cli/repl.js";
import { loadTranspiler } from "../src/cli/transpile.js";
import { classDeclarations, usesName } from "../src/cli/source-scan.js";

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

  /** Types one line without waiting for anything (a line the REPL keeps for the next). */
  type(line: string): void {
    this.#child.stdin.write(`${line}\n`);
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
    expect(banner).toContain("in scope: space, me, agentspace, Agent, action, loop, timer, sleep, Calculator");
    expect(await repl.enter(`await space.add(Calculator, "calc")`)).toBe("undefined\n");
  });

  afterAll(() => repl.kill()); // only if a test failed before Ctrl-D

  it("answers a request made through a handle, with top-level await", async () => {
    expect(await repl.enter(`await space.handle("calc").add({ a: 1, b: 2 })`)).toBe("3\n");
  });

  it(".agents counts the agents by class, then lists their ids, one per line", async () => {
    expect((await repl.enter(".agents")).split("\n")).toEqual(["2 agents: Agent 1, Calculator 1", "me", "calc", ""]);
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

describe("agentspace repl --threads 2, with a swarm", () => {
  let repl: ReplProcess;
  afterAll(() => repl.kill());

  it("holds 300 agents in two threads; .agents counts them, and lists those a filter picks", async () => {
    repl = new ReplProcess(["examples/calculator.ts", "--threads", "2"]);
    expect(await repl.waitFor(prompt)).toContain("agentspace repl: MultiprocessSpace");
    expect(await repl.enter(`for (let i = 0; i < 300; i++) await space.add(Calculator, "calc" + i)`)).toBe("undefined\n");
    expect(await repl.enter(`space.agents.length`)).toBe("301\n");
    const census = (await repl.enter(".agents")).split("\n");
    expect(census[0]).toBe("301 agents: Agent 1, Calculator 300");
    expect(census[1]).toBe(".agents <filter> lists the ids whose id or class contains <filter>");
    expect(census).toHaveLength(3);
    expect((await repl.enter(".agents calc29")).split("\n")).toEqual([
      "301 agents: Agent 1, Calculator 300",
      '11 with "calc29" in the id or class:',
      "calc29",
      ...Array.from({ length: 10 }, (_, i) => `calc29${i}`),
      "",
    ]);
    // A space made at the prompt and named `space` is the one .agents looks at.
    expect(await repl.enter(`const first = space; space = new agentspace.LocalSpace(); await space.add(Calculator, "solo")`)).toBe("undefined\n");
    expect((await repl.enter(".agents")).split("\n")).toEqual(["1 agent: Calculator 1", "solo", ""]);
    await repl.enter(`await space.destroy(); space = first`);
    expect(await repl.endInput()).toBe(0);
  }, 120_000);

  it("refuses --threads on a local space, saying why", async () => {
    const refused = new ReplProcess(["--space", "local", "--threads", "2"]);
    expect(await refused.waitFor("--threads is for a multiprocess space")).toContain("agentspace:");
    refused.kill();
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
      expect(await repl.enter(".define calc triple ({ n }) => n * 3")).toContain("PermissionDeniedError: defineAction runs code inside \"calc\"");
      expect(await repl.enter(`await space.handle("calc").triple({ n: 1 }).catch((error) => error.name)`)).toBe("'ActionNotFoundError'\n");
      expect(await repl.endInput()).toBe(0);
    } finally {
      repl.kill();
    }
  });
});

describe("agentspace repl: classes typed at the prompt", () => {
  let repl: ReplProcess;

  beforeAll(async () => {
    repl = new ReplProcess(["examples/calculator.ts"]);
    await repl.waitFor(prompt);
  });

  afterAll(() => repl.kill());

  it("takes TypeScript and decorators, and runs the class in a worker of the MultiprocessSpace", async () => {
    const typed = `class Doubler extends Agent { @action double({ n }: { n: number }): number { return n * 2; } }`;
    expect(await repl.enter(typed)).toBe("undefined\n");
    expect(await repl.enter(`await space.add(Doubler, "d")`)).toBe("undefined\n");
    expect(await repl.enter(`await space.handle("d").double({ n: 21 })`)).toBe("42\n");
    expect(await repl.enter(`const width: number = 3; width * 2`)).toBe("6\n");
  });

  it("typed again, the class is reloaded into its running agents by space.reload", async () => {
    expect(await repl.enter(`await space.add(Doubler, "d0"); await space.handle("d0").double({ n: 1 })`)).toBe("2\n");
    const retyped = `class Doubler extends Agent { @action double({ n }: { n: number }): number { return n * 200; } }`;
    expect(await repl.enter(retyped)).toBe("undefined\n");
    expect(await repl.enter(`(await space.reload(Doubler)).agents`)).toBe("[ 'd', 'd0' ]\n");
    expect(await repl.enter(`await space.handle("d0").double({ n: 1 })`)).toBe("200\n");
    expect(await repl.enter(`await space.remove("d0")`)).toBe("undefined\n");
  });

  it("runs it in a space of two shared threads too, with a class that extends it", async () => {
    const typed = `class Tripler extends Doubler { @action triple({ n }: { n: number }) { return n * 3; } }`;
    expect(await repl.enter(typed)).toBe("undefined\n");
    expect(await repl.enter(`const two = new agentspace.MultiprocessSpace({ threads: 2 })`)).toBe("undefined\n");
    expect(await repl.enter(`await two.add(Doubler, "d1"); await two.add(Tripler, "t1"); await two.add(Tripler, "t2")`)).toBe("undefined\n");
    expect(await repl.enter(`[await two.handle("d1").double({ n: 4 }), await two.handle("t2").triple({ n: 4 }), await two.handle("t2").double({ n: 1 })]`)).toBe(
      "[ 800, 12, 200 ]\n", // Doubler as typed again above
    );
    expect(await repl.enter(`await two.destroy()`)).toBe("undefined\n");
  });

  it("refuses a class that uses a value typed at the prompt, naming it", async () => {
    expect(await repl.enter(`const secret = 7`)).toBe("undefined\n");
    expect(await repl.enter(`class Leaky extends Agent { @action peek() { return secret + this.id.length; } }`)).toBe("undefined\n");
    const refused = await repl.enter(`await space.add(Leaky, "leaky")`);
    expect(refused).toContain("TypeError: Leaky uses `secret`, typed at this prompt: a worker cannot have that value");
    expect(await repl.enter(`space.agents.includes("leaky")`)).toBe("false\n");
  });

  it(".define adds an action to a running agent: help lists it, requests reach it", async () => {
    expect(await repl.enter(`.define d triple ({ n }) => n * 3`)).toBe("defined d.triple (actions defined on d: triple)\n");
    expect(await repl.enter(`await space.handle("d").triple({ n: 2 })`)).toBe("6\n");
    expect(await repl.enter(`.help d`)).toMatch(/^triple\b/m);
    expect(await repl.enter(`.define d`)).toContain("usage: .define <id> <name> <function source>");
  });

  it("keeps an incomplete input for the next line, and says what is wrong with a bad one", async () => {
    repl.type(`class Later extends Agent {`);
    expect(await repl.enter(`@action now() { return "later"; } }`)).toContain("undefined\n");
    expect(await repl.enter(`const = 1`)).toContain("SyntaxError");
    expect(await repl.endInput()).toBe(0);
  });
});

describe("agentspace repl: reloading a module", () => {
  const scratch = fileURLToPath(new URL("../node_modules/.cache/agentspace-tests/", import.meta.url));
  mkdirSync(scratch, { recursive: true });
  const folder = mkdtempSync(join(scratch, "repl-"));
  const module = join(folder, "counter.ts");
  const version = (n: number): string =>
    [
      `import { Agent, action } from "agentspace";`,
      `export class Counter extends Agent {`,
      `  static module = import.meta.url;`,
      `  total = 0;`,
      `  @action add({ n }: { n: number }) { this.total += n; return "v${n}:" + this.total; }`.replace("${n}", String(n)),
      `}`,
    ].join("\n");

  it("--watch reloads a saved module, and .reload does on demand: the agents keep their state", async () => {
    writeFileSync(module, version(1));
    const repl = new ReplProcess([module, "--watch"]);
    try {
      expect(await repl.waitFor(prompt)).toContain("each save reloads it");
      expect(await repl.enter(`await space.add(Counter, "c"); await space.add(Counter, "c2")`)).toBe("undefined\n");
      expect(await repl.enter(`await space.handle("c").add({ n: 5 })`)).toBe("'v1:5'\n");
      writeFileSync(module, version(2));
      expect(await repl.waitFor("now run the new code; state kept\n")).toContain("reloaded counter.ts: 2 agents (c, c2)");
      expect(await repl.enter(`await space.handle("c").add({ n: 1 })`)).toBe("'v2:6'\n");
      writeFileSync(module, `${version(3)}\n}}`); // saved half-edited: the old code serves on
      await repl.waitFor("reload of counter.ts failed");
      await repl.waitFor("\n");
      expect(await repl.enter(`await space.handle("c").add({ n: 0 })`)).toBe("'v2:6'\n");
      writeFileSync(module, version(3));
      expect(await repl.waitFor("state kept\n")).toContain("reloaded counter.ts");
      expect(await repl.enter(`await space.handle("c").add({ n: 1 })`)).toBe("'v3:7'\n");
      expect(await repl.enter(`.reload`)).toBe("reloaded counter.ts: 2 agents (c, c2) now run the new code; state kept\n");
      expect(await repl.endInput()).toBe(0);
    } finally {
      repl.kill();
      rmSync(folder, { recursive: true, force: true });
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

describe("what the repl makes of a typed input", () => {
  it("turns static imports into dynamic ones and keeps them for the session's class modules", async () => {
    const transpile = await loadTranspiler();
    const { code, imports } = transpile(`import { readFile as read, stat } from "node:fs/promises";\nimport type { Agent } from "agentspace";\nawait read("x")`, "/here");
    expect(code).toContain(`var { readFile: read, stat } = await import("node:fs/promises");`);
    expect(code).not.toContain("agentspace");
    expect(imports.map(({ statement }) => statement)).toEqual([`import { readFile as read, stat } from "node:fs/promises";`]);
    const local = transpile(`import helper from "./helper.ts"`, "/here");
    expect(local.imports[0]!.statement).toBe(`import helper from "/here/helper.ts"`);
  });

  it("finds top-level classes, decorators and strings with braces included", () => {
    const input = `const a = 1;\n@sealed\nclass A extends Agent { s = "}{"; m() { return { x: 1 }; } }\nclass B {}\nA;`;
    const found = classDeclarations(input);
    expect(found.map(({ name }) => name)).toEqual(["A", "B"]);
    expect(found[0]!.source).toBe(`@sealed\nclass A extends Agent { s = "}{"; m() { return { x: 1 }; } }`);
  });

  it("tells a variable from a property, an object key or text in a string", () => {
    expect(usesName("return secret + 1", "secret")).toBe(true);
    expect(usesName("return this.secret", "secret")).toBe(false);
    expect(usesName("return { secret: 1 }", "secret")).toBe(false);
    expect(usesName(`return "secret"`, "secret")).toBe(false);
  });
});
