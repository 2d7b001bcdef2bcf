import { AMQPSpace } from "../../src/index.js";
import { acrossProcesses } from "../behaviour/processes.js";
import { describeWithBroker, probeBroker, uniqueExchange } from "../helpers/broker.js";
import { ChildScript } from "../helpers/child.js";

const probe = await probeBroker();
const peerScript = new URL("../fixtures/amqp-peer.ts", import.meta.url);

describeWithBroker("AMQPSpace across processes", probe, () => {
  const exchange = uniqueExchange("agentspace-processes");
  // Ids are global on the broker's virtual host: a suffix keeps concurrent runs apart.
  const suffix = exchange.slice(-6);
  acrossProcesses({
    ids: { b: `peer-b-${suffix}`, c: `peer-c-${suffix}`, nobody: `nobody-${suffix}`, me: `me-${suffix}` },
    peer: (id) => new ChildScript(peerScript, [exchange, id]),
    space: () => new AMQPSpace({ exchange }),
    where: `exchange "${exchange}"`,
  });
});
