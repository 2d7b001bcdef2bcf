import { LocalSpace } from "../src/index.js";
import { describeSpace } from "./behaviour/suite.js";

describeSpace("LocalSpace", (options) => new LocalSpace(options), { workers: false });
