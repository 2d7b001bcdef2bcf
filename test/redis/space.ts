import { RedisSpace } from "../../src/index.js";
import { describeHardening } from "../behaviour/hardening.js";
import { describeLoops } from "../behaviour/loops.js";
import { describeReload } from "../behaviour/reload.js";
import { describeSpace } from "../behaviour/suite.js";
import { describeWithRedis, probeRedis, uniqueNamespace } from "../helpers/redis.js";

const probe = await probeRedis();

// The same behaviour as every space, each test in a namespace of its own.
describeWithRedis("RedisSpace (real Redis)", probe, () => {
  describeSpace("RedisSpace", (options) => new RedisSpace({ ...options, namespace: uniqueNamespace() }), { workers: true });
  describeLoops("RedisSpace", (options) => new RedisSpace({ ...options, namespace: uniqueNamespace() }), { workers: true });
  describeHardening("RedisSpace", (options) => new RedisSpace({ ...options, namespace: uniqueNamespace() }), { workers: true, carries: "json" });
  describeReload("RedisSpace", (options) => new RedisSpace({ ...options, namespace: uniqueNamespace() }));
});
