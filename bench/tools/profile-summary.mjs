// Self-time summary of V8 .cpuprofile files (from `node --cpu-prof`):
//   node bench/tools/profile-summary.mjs [--top N] [--by function|file] [--inclusive] <file or dir>…
// Several files (a main thread and its workers) are summed. Each row: self ms,
// % of all samples, and "file:function:line" with the path shortened to the repo.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
let top = 30;
let by = "function";
let inclusive = false;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--top") top = Number(args[++i]);
  else if (args[i] === "--by") by = args[++i];
  else if (args[i] === "--inclusive") inclusive = true;
  else if (statSync(args[i]).isDirectory()) {
    for (const f of readdirSync(args[i])) if (f.endsWith(".cpuprofile")) files.push(path.join(args[i], f));
  } else files.push(args[i]);
}
if (files.length === 0) {
  console.error("usage: profile-summary.mjs [--top N] [--by function|file] [--inclusive] <.cpuprofile or dir>…");
  process.exit(2);
}

const short = (url) => {
  if (!url) return "(native)";
  const clean = url.replace(/^file:\/\//, "");
  const at = clean.search(/\/(src|workers|bench|node_modules)\//);
  return at >= 0 ? clean.slice(at + 1) : clean;
};

const totals = new Map();
let allMs = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfMs = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    selfMs.set(profile.samples[i], (selfMs.get(profile.samples[i]) ?? 0) + ms);
    allMs += ms;
  }
  const keyOf = (node) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return by === "file" ? short(url) : `${short(url)}:${functionName || "(anonymous)"}:${lineNumber + 1}`;
  };
  for (const [id, ms] of selfMs) {
    if (!inclusive) {
      const key = keyOf(byId.get(id));
      totals.set(key, (totals.get(key) ?? 0) + ms);
      continue;
    }
    // Inclusive: every distinct frame on the sample's stack gets its time once.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = keyOf(byId.get(at));
      if (seen.has(key)) continue;
      seen.add(key);
      totals.set(key, (totals.get(key) ?? 0) + ms);
    }
  }
}

const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`${files.length} profile(s), ${allMs.toFixed(0)} ms sampled; ${inclusive ? "inclusive" : "self"} time by ${by}`);
for (const [key, ms] of rows) console.log(`${ms.toFixed(1).padStart(10)} ms ${((100 * ms) / allMs).toFixed(1).padStart(5)}%  ${key}`);
