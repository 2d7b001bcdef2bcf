/**
 * A million agents at once: added to MultiprocessSpace({ threads: "auto" }),
 * a request to each, then removed, each phase timed, with the heap each
 * agent takes in the main thread and in its worker; beside Erlang's million
 * processes (spawned, pinged, ended) in the same run. One run of each: at
 * full size a run takes minutes.
 */
import { hasErlang, NO_ERLANG, runErlang } from "../lib/erlang.js";
import { runProbe } from "../lib/probe.js";
import type { Scenario } from "../lib/scenario.js";

interface MillionRun {
  addMs: number;
  pingMs: number;
  removeMs: number;
  mainBytes: number;
  workerBytes: number;
  rssBytes: number;
}

interface ErlangMillion {
  otp: string;
  spawnNs: number;
  pingNs: number;
  endNs: number;
  bytesEach: number;
}

/** A million agents take minutes to add, ping and remove on two cores. */
const DEADLINE_MS = 15 * 60_000;

export const million: Scenario = {
  name: "million",
  group: "spaces",
  description: 'a million agents in MultiprocessSpace({ threads: "auto" }): added, pinged, removed; beside a million Erlang processes',
  async run(ctx) {
    const agents = Math.min(ctx.size(1_000_000, 2_000), ctx.maxAgents ?? Infinity);
    const n = agents.toLocaleString("en-US");
    ctx.target({ figure: "add-ms", of: "median", atMost: 20_000, text: `${n} agents added in < 20 s` });
    ctx.target({ figure: "bytes-each", of: "median", atMost: 2_700, text: "≤ 2.7 KB of heap per agent (main thread and worker together)" });

    if (hasErlang()) {
      const erlang = await runErlang<ErlangMillion>(["million", agents], DEADLINE_MS);
      const label = (what: string) => `Erlang/OTP ${erlang.otp}: ${n} processes, ${what}`;
      ctx.record({ key: "erlang-add-ms", label: label("spawned"), unit: "ms" }, [erlang.spawnNs / 1e6]);
      ctx.record({ key: "erlang-ping-ms", label: label("a message to each, answered"), unit: "ms" }, [erlang.pingNs / 1e6]);
      ctx.record({ key: "erlang-remove-ms", label: label("ended"), unit: "ms" }, [erlang.endNs / 1e6]);
      ctx.record({ key: "erlang-bytes-each", label: label("memory per process (erlang:memory(processes))"), unit: "B" }, [erlang.bytesEach]);
    } else {
      ctx.note(NO_ERLANG);
    }

    const run = await runProbe<MillionRun>("million", [String(agents), "auto"], `${n} agents`, {
      nodeFlags: ["--expose-gc"],
      deadlineMs: DEADLINE_MS,
    });
    const label = (what: string) => `${n} agents, threads "auto": ${what}`;
    const vs = (key: string) => (hasErlang() ? { vs: `erlang-${key}` } : {});
    ctx.record({ key: "add-ms", label: label("added, a thousand at a time"), unit: "ms", ...vs("add-ms") }, [run.addMs]);
    ctx.record({ key: "ping-ms", label: label("a request to each, answered"), unit: "ms", ...vs("ping-ms") }, [run.pingMs]);
    ctx.record({ key: "remove-ms", label: label("removed (destroy)"), unit: "ms", ...vs("remove-ms") }, [run.removeMs]);
    ctx.record({ key: "bytes-each", label: label("heap per agent, main thread + worker"), unit: "B", ...vs("bytes-each") },
      [run.mainBytes + run.workerBytes]);
    ctx.record({ key: "main-bytes-each", label: label("heap per agent in the main thread"), unit: "B" }, [run.mainBytes]);
    ctx.record({ key: "worker-bytes-each", label: label("heap per agent in its worker"), unit: "B" }, [run.workerBytes]);
    ctx.record({ key: "rss-bytes-each", label: label("RSS growth of the process per agent"), unit: "B" }, [run.rssBytes]);
    ctx.note(
      "one run each (minutes at full size); heap after a full collection (--expose-gc), main thread and every worker; " +
        "Erlang: bench/savina.erl million N, memory as the VM counts its processes",
    );
  },
};
