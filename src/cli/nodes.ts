/**
 *   agentspace nodes [--redis <url> | --sentinel <host:port,…> --sentinel-name <name>] [--namespace <ns>] [--json]
 */
import { parseArgs } from "node:util";
import { RedisSpace } from "../index.js";
import { nodesTable } from "../nodes/table.js";
import { NodeUsageError } from "./node.js";
import { redisFlags, redisFlagsUsage, redisOf } from "./redis-flags.js";

export const nodesUsage = `Usage: agentspace nodes [--redis <url> | --sentinel <host:port,…> --sentinel-name <name>]
                          [--namespace <ns>] [--json] [--events <n>]

Prints the nodes of a namespace (state, load, host, classes), the agents
placed on each, and the last events (deaths, moves, removals).

${redisFlagsUsage}
`;

export async function listNodes(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...redisFlags, namespace: { type: "string" }, json: { type: "boolean" }, events: { type: "string" } },
    }));
  } catch (error) {
    throw new NodeUsageError((error as Error).message);
  }
  const count = values.events === undefined ? 10 : Number(values.events);
  if (!Number.isSafeInteger(count) || count < 0) throw new NodeUsageError(`--events takes a whole number, not "${values.events}"`);
  const space = new RedisSpace({ redis: redisOf(values, NodeUsageError), namespace: values.namespace });
  try {
    await space.connected();
    // Only looks: re-placing is left to the nodes and the managers that keep running.
    const manager = space.manager({ recover: false });
    const [nodes, events] = await Promise.all([manager.nodes(), count > 0 ? manager.events(count) : []]);
    process.stdout.write(values.json ? `${JSON.stringify({ nodes, events }, null, 2)}\n` : nodesTable(nodes, events));
    return 0;
  } finally {
    await space.destroy();
  }
}
