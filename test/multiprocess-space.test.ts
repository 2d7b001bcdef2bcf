import { MultiprocessSpace } from "../src/index.js";
import { describeLoops } from "./behaviour/loops.js";
import { describeHardening } from "./behaviour/hardening.js";
import { describeSpace } from "./behaviour/suite.js";
import { describeReload } from "./behaviour/reload.js";

describeSpace("MultiprocessSpace", (options) => new MultiprocessSpace(options), { workers: true });
describeLoops("MultiprocessSpace", (options) => new MultiprocessSpace(options), { workers: true });
describeHardening("MultiprocessSpace", (options) => new MultiprocessSpace(options), { workers: true, carries: "clone" });
describeReload("MultiprocessSpace", (options) => new MultiprocessSpace(options));
