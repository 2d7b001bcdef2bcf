/**
 * Calls both ways between HttpSpace agents and a real Python Academy agent
 * (../shared/tools/academy: set it up with its setup.sh). On our own exchange
 * by default, or on any other with URL=http://host:port (Academy's own:
 * `$PY peer.py --serve-only PORT`):  npx tsx scripts/academy-interop.ts
 */
import { spawn } from "node:child_process";
import { Exchange, HttpSpace, Agent } from "../src/index.ts";
import { Calculator } from "../test/fixtures/calculator.ts";
import { uidOf } from "../src/http/ids.ts";
const PY = process.env.PY ?? "/tmp/academy-venv/bin/python";
const TOOLS = process.env.TOOLS ?? new URL("../../shared/tools/academy", import.meta.url).pathname;
const url = process.env.URL ?? (await Exchange.start({})).url;
function run(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const p = spawn(PY, args, { cwd: TOOLS });
    let out = ""; p.stdout.on("data", (d) => (out += d)); p.stderr.on("data", (d) => (out += d));
    p.on("close", () => resolve(out.trim()));
  });
}
const peer = spawn(PY, ["peer.py", "--exchange", url], { cwd: TOOLS });
const uuid = await new Promise<string>((resolve) => { let b = ""; peer.stdout.on("data", (d) => { b += d; const m = /READY (\S+)/.exec(b); if (m) resolve(m[1]!); }); });
const space = new HttpSpace({ url });
const me = await space.addForeground(Agent, "me");
await space.add(Calculator, "calc");
console.log("ts→py add:", await me.request({ to: uuid, action: { name: "add", args: { a: 2, b: 3 } } }));
console.log("ts→py fail:", await me.request({ to: uuid, action: { name: "fail", args: { msg: "boom" } } }).catch((e) => `${e.name}: ${e.message}`));
console.log("ts→py missing:", await me.request({ to: uuid, action: { name: "nope" } }).catch((e) => `${e.name}: ${e.message.slice(0, 200)}`));
console.log("ts→py whoami:", JSON.stringify(await me.request({ to: uuid, action: { name: "whoami" } })));
const calc = uidOf("calc");
console.log("py→ts add (pargs):", await run(["client.py", url, calc, "2", "3"]));
console.log("py→ts kwargs:", await run(["client.py", url, calc, "--action", "add", "--kwargs", '{"a": 4, "b": 5}']));
console.log("py→ts error:", await run(["client.py", url, calc, "--action", "nope"]));
console.log("py→ts pickle:", await run(["client.py", url, calc, "--serializer", "pickle"]));
console.log("py→ts ping:", await run(["client.py", url, calc, "--ping"]));
console.log("discover:", await run(["client.py", url, "--discover", "Calculator"]), "|", await run(["client.py", url, "--discover", "academy.agent.Agent"]));
console.log("py agent→ts via call:", await run(["client.py", url, uuid, "--call", calc]));
console.log("ts→py→ts call_back:", await me.request({ to: uuid, action: { name: "call", args: { agent_id: calc, action: "add", args: [7, 8] } } }).catch((e) => `${e.name}: ${e.message}`));
peer.kill();
await space.destroy();
process.exit(0);
