import { LocalSpace } from "../src/index.js";
import { describeLoops } from "./behaviour/loops.js";
import { describeHardening } from "./behaviour/hardening.js";
import { describeSpace } from "./behaviour/suite.js";
import { describeReload } from "./behaviour/reload.js";

describeSpace("LocalSpace", (options) => new LocalSpace(options), { workers: false });
describeLoops("LocalSpace", (options) => new LocalSpace(options), { workers: false });
describeHardening("LocalSpace", (options) => new LocalSpace(options), { workers: false, carries: "clone" });
describeReload("LocalSpace", (options) => new LocalSpace(options));
