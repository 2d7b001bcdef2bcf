import { MultiprocessSpace } from "../src/index.js";
import { describeSpace } from "./behaviour/suite.js";

describeSpace("MultiprocessSpace", () => new MultiprocessSpace(), { workers: true });
