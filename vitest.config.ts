import { fileURLToPath } from "node:url";
import { transform } from "esbuild";
import { defineConfig, type Plugin } from "vitest/config";

/**
 * Node 20 runs neither standard decorators nor `await using`, and Vite's own
 * transform leaves them as written: lower them with esbuild, exactly as the
 * package build and the worker bundles do.
 */
const lowerForNode20: Plugin = {
  name: "lower-for-node20",
  enforce: "pre",
  async transform(code, id) {
    if (!/\.[cm]?ts$/.test(id) || id.includes("/node_modules/")) return null;
    const result = await transform(code, { loader: "ts", target: "node20", format: "esm", sourcemap: true, sourcefile: id });
    return { code: result.code, map: result.map };
  },
};

export default defineConfig({
  plugins: [lowerForNode20],
  resolve: {
    // What tsconfig's "paths" says for tsc and tsx: in this repo "agentspace"
    // is the source. Without it the package resolves to itself, a possibly
    // stale dist/. The bare name only: "agentspace/package.json" stays as is.
    alias: [{ find: /^agentspace$/, replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url)) }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    // Worker and broker tests start real threads and connections: give them
    // room, and isolate each file in its own process.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
