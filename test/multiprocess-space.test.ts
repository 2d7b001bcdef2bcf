import { MultiprocessSpace } from "../src/index.js";
import { describeSpace } from "./behaviour/suite.js";

describeSpace("MultiprocessSpace", (options) => new MultiprocessSpace(options), { workers: true });
