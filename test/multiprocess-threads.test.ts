import { MultiprocessSpace } from "../src/index.js";
import { describeLoops } from "./behaviour/loops.js";
import { describeHardening } from "./behaviour/hardening.js";
import { describeSpace } from "./behaviour/suite.js";
import { describeReload } from "./behaviour/reload.js";

// The same behaviour when agents share two worker threads instead of having one each.
const inTwoThreads = (options?: ConstructorParameters<typeof MultiprocessSpace>[0]) => new MultiprocessSpace({ ...options, threads: 2 });
describeSpace("MultiprocessSpace with threads: 2", inTwoThreads, { workers: true });
describeLoops("MultiprocessSpace with threads: 2", inTwoThreads, { workers: true });
describeHardening("MultiprocessSpace with threads: 2", inTwoThreads, { workers: true, carries: "clone" });
describeReload("MultiprocessSpace with threads: 2", inTwoThreads);
