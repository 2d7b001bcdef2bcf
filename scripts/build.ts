// Builds the package: JavaScript with esbuild (standard decorators lowered
// for Node 20), declarations with tsc. `--no-types` skips the declarations.
//
// Two steps. First dist/thread.js, the agent runtime and its host in one
// file, and the worker entries that import it (see src/thread.ts). Then the
// library and its CLI, split into chunks they share, importing every module
// thread.js holds from it: one copy of each in every thread, and a worker
// thread that loads three files, never the spaces, brokers, inspector or CLI.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { build } from "esbuild";
import { buildDefaults, buildThreadSide, throughThread } from "../src/library-files.js";

rmSync("dist", { recursive: true, force: true });
const threadFiles = await buildThreadSide("dist");
await build({
  ...buildDefaults,
  entryPoints: { index: "src/index.ts", runtime: "src/runtime.ts", cli: "src/cli/main.ts" },
  outdir: "dist",
  splitting: true,
  // Beside the entries, so that each chunk finds what ships next to dist/index.js (the
  // inspector's page, thread.js, the worker entries) where an unsplit library would.
  chunkNames: "[name]-[hash]",
  plugins: [throughThread(threadFiles, "./thread.js")],
});
// The inspector's page is served as written (no build step): it goes next to
// dist/index.js, where the bundled library looks for it.
cpSync("src/inspector/page", "dist/inspector/page", { recursive: true });
if (!process.argv.includes("--no-types")) {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
}
