import { afterAll, beforeAll, describe } from "vitest";
import { HttpSpace } from "../../src/index.js";
import { describeSpace } from "../behaviour/suite.js";
import { startExchangeProcess, type ExchangeProcess } from "./exchange-process.js";

// The behaviour every space shows, with a real `agentspace exchange` process as the router.
describe("HttpSpace (agentspace exchange process)", () => {
  let exchange: ExchangeProcess;
  beforeAll(async () => {
    exchange = await startExchangeProcess();
  });
  afterAll(() => exchange.stop());
  describeSpace("HttpSpace", (options) => new HttpSpace({ ...options, url: exchange.url }), { workers: true });
});
