import { MultiprocessSpace } from "../src/index.js";
import { describeSpace } from "./behaviour/suite.js";

// The same behaviour when agents share two worker threads instead of having one each.
describeSpace("MultiprocessSpace with threads: 2", (options) => new MultiprocessSpace({ ...options, threads: 2 }), { workers: true });
