import { afterAll, beforeAll, describe } from "vitest";
import { HttpSpace, type SpaceOptions } from "../../src/index.js";
import { describeHardening } from "../behaviour/hardening.js";
import { describeLoops } from "../behaviour/loops.js";
import { describeReload } from "../behaviour/reload.js";
import { describeSpace } from "../behaviour/suite.js";
import { startExchangeProcess, type ExchangeProcess } from "./exchange-process.js";

// The behaviour every space shows, with a real `agentspace exchange` process as the router.
describe("HttpSpace (agentspace exchange process)", () => {
  let exchange: ExchangeProcess;
  beforeAll(async () => {
    exchange = await startExchangeProcess();
  });
  afterAll(() => exchange.stop());
  const makeSpace = (options?: SpaceOptions): HttpSpace => new HttpSpace({ ...options, url: exchange.url });
  describeSpace("HttpSpace", makeSpace, { workers: true });
  describeLoops("HttpSpace", makeSpace, { workers: true });
  describeHardening("HttpSpace", makeSpace, { workers: true, carries: "json" });
  describeReload("HttpSpace", makeSpace);
});
