import { RedisSpace } from "../../src/index.js";
import { acrossProcesses } from "../behaviour/processes.js";
import { ChildScript } from "../helpers/child.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();
const peerScript = new URL("./peer.ts", import.meta.url);

// The same behaviour across processes: through Redis, and with messages between live processes going straight over TCP.
for (const direct of [false, true]) {
  describeWithRedis(direct ? "RedisSpace with direct across processes" : "RedisSpace across processes", probe, () => {
    const namespace = uniqueNamespace(direct ? "direct-processes" : "processes");
    acrossProcesses({
      ids: { b: "peer-b", c: "peer-c", nobody: "nobody", me: "me" },
      peer: (id) => new ChildScript(peerScript, [...(direct ? ["--direct"] : []), namespace, id, "calculator"]),
      space: () => new RedisSpace({ namespace, direct }),
      where: `namespace "${namespace}"`,
    });
  });
}
