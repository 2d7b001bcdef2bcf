import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; it must exit by itself (with nothing left running) within the bound. */
function exec(command: string, args: string[]): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: root, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error && error.killed) reject(new Error(`${args.join(" ")} did not exit by itself:\n${stdout}${stderr}`));
      else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
}

/** The CLI from source, as the tests run it. */
function agentspace(...args: string[]): Promise<Outcome> {
  return exec(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args]);
}

// Each test is its own process: they run side by side.
describe.concurrent("agentspace --help", () => {
  const helpArgs = [{ args: ["--help"] }, { args: ["-h"] }, { args: [] }];
  it.each(helpArgs)("prints the usage for $args and exits with 0", async ({ args }) => {
    const { code, stdout } = await agentspace(...args);
    expect(code).toBe(0);
    expect(stdout).toContain("agentspace repl [module…] [--space multiprocess|local] [--threads <n>|auto] [--no-debug]");
    expect(stdout).toContain("agentspace run <module>");
  });

  it("refuses an unknown command with exit code 2 and says what to do", async () => {
    const { code, stderr } = await agentspace("frobnicate");
    expect(code).toBe(2);
    expect(stderr).toContain(`agentspace: unknown command "frobnicate"`);
    expect(stderr).toContain("Run agentspace --help for usage.");
  });

  it("refuses an unknown space with exit code 2", async () => {
    const { code, stderr } = await agentspace("run", "examples/hello-run.ts", "--space", "cloud");
    expect(code).toBe(2);
    expect(stderr).toContain(`--space takes multiprocess or local, not "cloud"`);
  });

  // Only after `npm run build`: the bin as npm installs it.
  it.runIf(existsSync(join(root, "dist/cli.js")))("works from the built bin", async () => {
    const { code, stdout } = await exec(process.execPath, ["dist/cli.js", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("agentspace run <module>");
  });
});

describe.concurrent("agentspace run", () => {
  let folder: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), "agentspace-run-"));
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it.each(["multiprocess", "local"])("calls main(space) on a %s space, prints what main prints, exits with 0", async (kind) => {
    const { code, stdout, stderr } = await agentspace("run", "examples/hello-run.ts", "--space", kind);
    expect(stderr).toBe("");
    expect(stdout).toBe(
      [
        "1 + 2 = 3",
        "running total: 42",
        "1 / 0 failed as it should: RangeError: cannot divide by zero",
        "agents: calc",
        "",
      ].join("\n"),
    );
    expect(code).toBe(0);
  });

  it("exits with 1 and a clear message for a module without main", async () => {
    const { code, stderr } = await agentspace("run", "examples/calculator.ts");
    expect(code).toBe(1);
    expect(stderr).toContain("agentspace run: examples/calculator.ts exports no main function; add one:");
    expect(stderr).toContain("export async function main(space) { … }");
  });

  it("exits with 1 when main throws, names the error, and still destroys the space", async () => {
    const module = join(folder, "throws.ts");
    const source = [
      "export async function main(space: { agents: string[] }): Promise<void> {",
      `  throw new TypeError("no agents here: " + space.agents.length);`,
      "}",
    ];
    await writeFile(module, source.join("\n"));
    const { code, stderr } = await agentspace("run", module);
    expect(code).toBe(1);
    expect(stderr).toContain(`main(space) of ${module} failed: TypeError: no agents here: 0`);
    expect(stderr).toContain(`${module}:2:9`); // the stack points into the source, not the bundle
  });

  it("exits with 1 for a module that is not there", async () => {
    const { code, stderr } = await agentspace("run", "examples/nowhere.ts");
    expect(code).toBe(1);
    expect(stderr).toContain("agentspace run: no module at examples/nowhere.ts");
  });
});

/** The CLI from source with `input` piped to it, as `agentspace repl < session.txt` does; resolves once it exits. */
function piped(args: string[], input: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: root });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${args.join(" ")} did not exit by itself:\n${stdout}${stderr}`));
    }, 30_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe("agentspace repl < session.txt", () => {
  let folder: string;

  beforeAll(async () => {
    // Inside this package: run from source, the library's own npm imports resolve from here.
    const scratch = join(root, "node_modules", ".cache", "agentspace-tests");
    await mkdir(scratch, { recursive: true });
    folder = await mkdtemp(join(scratch, "session-"));
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it("runs piped lines one after another, and .history saves them as a script agentspace run replays", async () => {
    const script = join(folder, "session.ts");
    const session = [
      `class Greeter extends Agent {`,
      `  @action greet({ name }: { name: string }): string { return "hello " + name; }`,
      `}`,
      `await space.add(Calculator, "calc"); await space.add(Greeter, "greeter")`,
      `await sleep(200); console.log("first")`,
      `console.log("second")`,
      `console.log("sum", await space.handle("calc").add({ a: 2, b: 3 }))`,
      `console.log(await space.handle("greeter").greet({ name: "again" }))`,
      `.history ${script}`,
    ].join("\n");
    const { code, stdout } = await piped(["repl", "examples/calculator.ts"], session);
    expect(code).toBe(0);
    const printed = stdout.split("\n").map((line) => line.replace(/^(agentspace> |\.\.\. )+/, ""));
    const said = printed.filter((line) => ["first", "second", "sum 5", "hello again"].includes(line));
    expect(said).toEqual(["first", "second", "sum 5", "hello again"]); // each line waited for the one before
    expect(stdout).toContain(`saved 6 inputs to ${script}`);

    const replay = await agentspace("run", script);
    expect(replay.stderr).toBe("");
    expect(replay.stdout).toBe("first\nsecond\nsum 5\nhello again\n");
    expect(replay.code).toBe(0);
  });

  it("refuses --watch outside the repl", async () => {
    const { code, stderr } = await agentspace("run", "examples/hello-run.ts", "--watch");
    expect(code).toBe(2);
    expect(stderr).toContain("--watch is for repl");
  });
});
