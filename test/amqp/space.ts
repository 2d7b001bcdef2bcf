import { AMQPSpace } from "../../src/index.js";
import { describeLoops } from "../behaviour/loops.js";
import { describeHardening } from "../behaviour/hardening.js";
import { describeReload } from "../behaviour/reload.js";
import { describeSpace } from "../behaviour/suite.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";

const probe = await probeBroker();

// The same behaviour as every space, each test on an exchange of its own.
describeWithBroker("AMQPSpace (real RabbitMQ)", probe, () => {
  describeSpace("AMQPSpace", (options) => new AMQPSpace({ ...options, exchange: uniqueExchange() }), { workers: true });
  describeLoops("AMQPSpace", (options) => new AMQPSpace({ ...options, exchange: uniqueExchange() }), { workers: true });
  describeHardening("AMQPSpace", (options) => new AMQPSpace({ ...options, exchange: uniqueExchange() }), { workers: true, carries: "json" });
  describeReload("AMQPSpace", (options) => new AMQPSpace({ ...options, exchange: uniqueExchange() }));
});
