import { MultiprocessSpace } from "../src/index.js";
import { describeLoops } from "./behaviour/loops.js";
import { describeHardening } from "./behaviour/hardening.js";
import { describeSpace } from "./behaviour/suite.js";
import { describeReload } from "./behaviour/reload.js";

// The same behaviour when agents share worker threads instead of having one each: with two
// threads some agents are thread-mates and some are not; with one, every agent is every other's.
for (const threads of [2, 1]) {
  const shared = (options?: ConstructorParameters<typeof MultiprocessSpace>[0]) => new MultiprocessSpace({ ...options, threads });
  const name = `MultiprocessSpace with threads: ${threads}`;
  describeSpace(name, shared, { workers: true });
  describeLoops(name, shared, { workers: true });
  describeHardening(name, shared, { workers: true, carries: "clone" });
  describeReload(name, shared);
}
