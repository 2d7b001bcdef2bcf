// `node --import` this to run bench TypeScript against the packed package
// (npm run bench -- --packed; lib/packed.ts sets it up). Plain JavaScript:
// it runs before any TypeScript can.
//
// tsx comes from the project the package is installed in, and is registered
// first: module hooks run last-registered first, so the "agentspace" hook
// below answers before tsx would map the name to src/index.ts through the
// repo's tsconfig "paths".
import { createRequire, register } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const entry = process.env.AGENTSPACE_BENCH_PACKED;
if (!entry) throw new Error("packed-loader.mjs: AGENTSPACE_BENCH_PACKED names no installed agentspace entry");

// tsx's own loader, what `node --import tsx` runs.
await import(pathToFileURL(createRequire(fileURLToPath(entry)).resolve("tsx")).href);
register("./packed-hooks.mjs", import.meta.url, { data: { entry } });
