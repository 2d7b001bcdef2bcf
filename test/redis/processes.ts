import { RedisSpace } from "../../src/index.js";
import { acrossProcesses } from "../behaviour/processes.js";
import { ChildScript } from "../helpers/child.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const peerScript = new URL("./peer.ts", import.meta.url);

describeWithRedis("RedisSpace across processes", probe, () => {
  const namespace = uniqueNamespace("processes");
  acrossProcesses({
    ids: { b: "peer-b", c: "peer-c", nobody: "nobody", me: "me" },
    peer: (id) => new ChildScript(peerScript, [namespace, id, "calculator"]),
    space: () => new RedisSpace({ namespace }),
    where: `namespace "${namespace}"`,
  });
});
