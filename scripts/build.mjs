// Builds the package: JavaScript with esbuild (standard decorators lowered
// for Node 20), declarations with tsc. `--no-types` skips the declarations.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { build } from "esbuild";

const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  sourcemap: true,
  logLevel: "warning",
};

// The CLI imports the library from dist/index.js, the very module a user
// module's `import "agentspace"` resolves to, instead of bundling a copy:
// one Agent class and one set of error classes in the main thread.
const libraryAsImport = {
  name: "library-as-import",
  setup(builder) {
    const library = resolve("src/index.js");
    builder.onResolve({ filter: /\/index\.js$/ }, ({ path, resolveDir }) =>
      resolve(resolveDir, path) === library ? { path: "./index.js", external: true } : undefined,
    );
  },
};

rmSync("dist", { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js" }),
  build({ ...common, entryPoints: ["workers/agent-host.ts"], outfile: "dist/workers/agent-host.js" }),
  build({ ...common, entryPoints: ["workers/compute-task.ts"], outfile: "dist/workers/compute-task.js" }),
  build({
    ...common,
    entryPoints: ["src/cli/main.ts"],
    outfile: "dist/cli.js",
    banner: { js: "#!/usr/bin/env node" },
    plugins: [libraryAsImport],
  }),
]);
// The inspector's page is served as written (no build step): it goes next to
// dist/index.js, where the bundled library looks for it.
cpSync("src/inspector/page", "dist/inspector/page", { recursive: true });
if (!process.argv.includes("--no-types")) {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], { stdio: "inherit" });
}
