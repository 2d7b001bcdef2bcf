/**
 * The agent the README's REPL walk-through talks to:
 *
 *   npx agentspace repl examples/calculator.ts
 */
import { Agent, action, type ActionHelp } from "agentspace";

const twoNumbers: ActionHelp["args"] = { a: { type: "number" }, b: { type: "number" } };
const aNumber: ActionHelp["returns"] = { type: "number" };

export class Calculator extends Agent {
  static module = import.meta.url; // where a worker imports this class from

  /** What `accumulate` adds to; the built-in `inspect` action shows it. */
  total = 0;

  @action({
    help: { description: "Add two numbers", args: twoNumbers, returns: aNumber },
  })
  add({ a, b }: { a: number; b: number }): number {
    return a + b;
  }

  @action({
    help: { description: "Divide a by b; b must not be 0", args: twoNumbers, returns: aNumber },
  })
  divide({ a, b }: { a: number; b: number }): number {
    if (b === 0) throw new RangeError("cannot divide by zero");
    return a / b;
  }

  @action({
    help: { description: "Add n to the running total and return it", args: { n: { type: "number" } }, returns: aNumber },
  })
  accumulate({ n }: { n: number }): number {
    this.total += n;
    return this.total;
  }
}
