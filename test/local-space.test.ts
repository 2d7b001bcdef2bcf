import { LocalSpace } from "../src/index.js";
import { describeSpace } from "./behaviour/suite.js";

describeSpace("LocalSpace", () => new LocalSpace(), { workers: false });
