/**
 * A module for `agentspace run`: the CLI makes the space, calls `main` with
 * it, and destroys the space once `main` has settled.
 *
 *   npx agentspace run examples/hello-run.ts               # each agent in a worker thread
 *   npx agentspace run examples/hello-run.ts --space local # every agent in this thread
 */
import type { Space } from "agentspace";
import { Calculator } from "./calculator.js";

export async function main(space: Space): Promise<void> {
  await space.add(Calculator, "calc");
  const calc = space.handle<Calculator>("calc");
  console.log(`1 + 2 = ${await calc.add({ a: 1, b: 2 })}`);

  for (const n of [10, 20, 12]) await calc.accumulate({ n });
  console.log(`running total: ${await calc.accumulate({ n: 0 })}`);

  try {
    await calc.divide({ a: 1, b: 0 });
  } catch (error) {
    console.log(`1 / 0 failed as it should: ${(error as Error).message}`);
  }
  console.log(`agents: ${space.agents.join(", ")}`);
}
