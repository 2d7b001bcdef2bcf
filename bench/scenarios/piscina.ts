/** piscina, the peer worker pool: how many trivial tasks per second it runs. */
import { Piscina } from "piscina";
import { now, nsSince } from "../lib/clock.js";
import { withRig, type Rig } from "../lib/rig.js";
import type { Count, Scenario } from "../lib/scenario.js";
import { workerUrl } from "../lib/workers.js";
import { makeMessage } from "../workers/message.mjs";

/** piscina's own defaults for pool size; execArgv [] for the same reason as every bench worker. */
function pool(n: number): Rig<Count> {
  const piscina = new Piscina({ filename: workerUrl("piscina-task.mjs").href, execArgv: [] });
  return {
    async once() {
      const start = now();
      const tasks = [];
      for (let i = 0; i < n; i++) tasks.push(piscina.run(makeMessage(i, "main", "task")));
      await Promise.all(tasks);
      return { count: n, ns: nsSince(start) };
    },
    close: () => piscina.destroy(),
  };
}

export const piscina: Scenario = {
  name: "piscina",
  group: "baselines",
  description: "piscina 5 with its default pool: throughput of a task that returns its argument",
  async run(ctx) {
    const n = ctx.size(20_000, 1_000);
    await withRig(pool(n), (once) => ctx.throughput({ key: "trivial", label: "trivial task", unit: "tasks/s" }, once));
    ctx.note(`${n.toLocaleString("en-US")} tasks submitted at once per run`);
  },
};
