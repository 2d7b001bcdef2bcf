/**
 *   agentspace node <module…> [--redis <url> | --sentinel <host:port,…> --sentinel-name <name>] [--namespace <ns>] [--name <name>] [--capacity <n>] [--threads <n|auto>] [--lease-ms <ms>]
 *                             [--direct] [--direct-host <host>] [--direct-port <n>] [--advertise <host[:port]>]
 *                             [--telemetry <module>] [--metrics-port <n>] [--metrics-host <host>]
 *                             [--virtual <Class>=<prefix>]… [--idle-ms <ms>]
 */
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { AgentNode, type AgentClass, type DirectOptions, type VirtualServing } from "../index.js";
import { portFlag, positiveFlag } from "./flags.js";
import { redisFlags, redisFlagsUsage, redisOf } from "./redis-flags.js";
import { agentClassesOf, loadModule } from "./load-module.js";

export const nodeUsage = `Usage: agentspace node <module…> [--redis <url> | --sentinel <host:port,…> --sentinel-name <name>]
                         [--namespace <ns>] [--name <name>]
                         [--capacity <n>] [--threads <n|auto>] [--lease-ms <ms>]
                         [--direct] [--direct-host <host>] [--direct-port <n>] [--advertise <host[:port]>]
                         [--telemetry <module>] [--metrics-port <n>] [--metrics-host <host>]
                         [--virtual <Class>=<prefix>]… [--idle-ms <ms>]

Runs a node: offers the agent classes the modules export (by class name) and
hosts the agents a manager launches on it. SIGTERM or Ctrl-C drains it: its
agents move to other nodes, then it exits.

${redisFlagsUsage}
  --namespace <ns>   default "agentspace"
  --name <name>      default the host name
  --capacity <n>     agents it hosts at most (default 64)
  --threads <n|auto> worker threads its agents share (default one per agent)
  --lease-ms <ms>    how soon a dead node is noticed (default 5000)
  --direct           talk straight to other processes over TCP (RedisSpace's direct path);
                     --direct-host (default 127.0.0.1; 0.0.0.0 across hosts), --direct-port
                     (default any free one) and --advertise (the address others dial) imply it
  --telemetry <module>  a module that registers an OpenTelemetry SDK: run in the node
                     before anything else, and in each of its worker threads before any agent
  --metrics-port <n> serve the node's Prometheus metrics at http://<metrics-host>:<n>/metrics
                     (0: any free port); --metrics-host defaults to 127.0.0.1
  --virtual <Class>=<prefix>  serve virtual agents: every id starting with <prefix> is a <Class>,
                     activated on its first message on a node that serves it and has room
                     (repeat it for more kinds); --idle-ms: passivated after this long with
                     no message (default 60000)
`;

/** Thrown for a command line that makes no sense: the caller prints it with the usage hint. */
export class NodeUsageError extends Error {}

/** The direct path the flags ask for: any of them turns it on. */
function directOf(values: { direct?: boolean; "direct-host"?: string; "direct-port"?: string; advertise?: string }): DirectOptions | undefined {
  const port = portFlag("direct-port", values["direct-port"], NodeUsageError);
  const host = values["direct-host"];
  const advertise = values.advertise;
  if (!values.direct && host === undefined && port === undefined && advertise === undefined) return undefined;
  return { ...(host === undefined ? {} : { host }), ...(port === undefined ? {} : { port }), ...(advertise === undefined ? {} : { advertise }) };
}

/** `--virtual Account=acct:` → the kind it names; the prefix may hold "=" and ":" (only the first "=" splits). */
function virtualOf(spec: string, idleMs: number | undefined): VirtualServing {
  const at = spec.indexOf("=");
  const className = at > 0 ? spec.slice(0, at) : "";
  const prefix = at > 0 ? spec.slice(at + 1) : "";
  if (!className || !prefix) throw new NodeUsageError(`--virtual takes <Class>=<prefix>, as in --virtual Account=acct: (not "${spec}")`);
  return { className, prefix, ...(idleMs === undefined ? {} : { idleMs }) };
}

/** Parses and runs `agentspace node`; resolves with the exit code once the node has stopped. */
export async function runNode(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...redisFlags,
        namespace: { type: "string" },
        name: { type: "string" },
        capacity: { type: "string" },
        threads: { type: "string" },
        "lease-ms": { type: "string" },
        direct: { type: "boolean" },
        "direct-host": { type: "string" },
        "direct-port": { type: "string" },
        advertise: { type: "string" },
        telemetry: { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        virtual: { type: "string", multiple: true },
        "idle-ms": { type: "string" },
      },
    });
  } catch (error) {
    throw new NodeUsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new NodeUsageError("node needs at least one module exporting agent classes: agentspace node <module…>");
  const capacity = positiveFlag("capacity", values.capacity, NodeUsageError);
  const leaseMs = positiveFlag("lease-ms", values["lease-ms"], NodeUsageError);
  const threads = values.threads === "auto" ? "auto" : positiveFlag("threads", values.threads, NodeUsageError);
  const direct = directOf(values);
  const metricsPort = portFlag("metrics-port", values["metrics-port"], NodeUsageError);
  if (values["metrics-host"] !== undefined && metricsPort === undefined) throw new NodeUsageError("--metrics-host needs --metrics-port");
  const idleMs = positiveFlag("idle-ms", values["idle-ms"], NodeUsageError);
  const virtual = (values.virtual ?? []).map((spec) => virtualOf(spec, idleMs));
  if (idleMs !== undefined && virtual.length === 0) throw new NodeUsageError("--idle-ms needs --virtual <Class>=<prefix>");
  const telemetry = values.telemetry;
  // Before the agent modules: an SDK must be registered before anything it traces loads.
  if (telemetry !== undefined) await loadModule(telemetry);
  const classes = new Map<string, AgentClass>();
  for (const module of positionals) {
    for (const Cls of agentClassesOf(await loadModule(module)).values()) classes.set(Cls.name, Cls);
  }
  if (classes.size === 0) throw new NodeUsageError(`${positionals.join(", ")} export no agent classes`);
  const node = await AgentNode.start({
    name: values.name ?? hostname().split(".")[0]!,
    classes,
    ...(capacity === undefined ? {} : { capacity }),
    ...(threads === undefined ? {} : { threads }),
    redis: redisOf(values, NodeUsageError),
    namespace: values.namespace,
    tuning: leaseMs === undefined ? undefined : { leaseMs },
    ...(direct === undefined ? {} : { direct }),
    ...(telemetry === undefined ? {} : { telemetry }),
    ...(virtual.length === 0 ? {} : { virtual }),
  });
  if (metricsPort !== undefined) {
    const served = await node.space.serveMetrics({ port: metricsPort, ...(values["metrics-host"] === undefined ? {} : { host: values["metrics-host"] }) });
    console.log(`[node ${node.name}] metrics at ${served.url}`);
  }
  const serves = virtual.map(({ className, prefix }) => `, serves ${className} as "${prefix}…"`).join("");
  console.log(`[node ${node.name}] ready: offers ${[...classes.keys()].sort().join(", ")}${serves}`);
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    // A second signal does not wait for the drain: the agents move once the lease runs out.
    if (++signals > 1) process.exit(130);
    console.log(`[node ${node.name}] ${signal}: draining`);
    void node.drain();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  try {
    await node.stopped;
    console.log(`[node ${node.name}] stopped`);
    return 0;
  } catch (error) {
    console.error(`agentspace node: ${(error as Error).message}`);
    return 1;
  }
}
