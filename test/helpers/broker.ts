import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { connect } from "amqplib";
import { describeBroker, resolveAmqpOptions, type AmqpOptions } from "../../src/amqp/options.js";
import { describeWithServer } from "./server.js";

const run = promisify(execFile);

const HOW_TO_START = "start one with `rabbitmq-server -detached` (or point AMQP_HOST/AMQP_PORT at one)";

/** Whether a broker answers at the options the environment gives, and whether `rabbitmqctl` can inspect it. */
export interface BrokerProbe {
  options: AmqpOptions;
  available: boolean;
  /** Why not, when not available. */
  reason: string;
  /** `rabbitmqctl` runs against it: topology checks and restarts are possible. */
  ctl: boolean;
}

export async function probeBroker(): Promise<BrokerProbe> {
  const options = resolveAmqpOptions();
  const probe: BrokerProbe = { options, available: false, reason: "", ctl: false };
  try {
    const model = await connect(
      { hostname: options.hostname, port: options.port, username: options.username, password: options.password, vhost: options.virtualHost },
      { timeout: 3_000 },
    );
    await model.close();
    probe.available = true;
  } catch (error) {
    probe.reason = `no AMQP broker answers at ${describeBroker(options)} (${(error as Error).message})`;
    return probe;
  }
  probe.ctl = await rabbitmqctl("status").then(
    () => true,
    () => false,
  );
  return probe;
}

/** `describe` for suites that need a real AMQP broker: see `describeWithServer`. */
export function describeWithBroker(name: string, probe: BrokerProbe, body: () => void): void {
  describeWithServer(name, probe, { what: "an AMQP broker", requireVar: "AGENTSPACE_REQUIRE_AMQP", howToStart: HOW_TO_START }, body);
}

/** Runs rabbitmqctl; resolves with its stdout. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run("rabbitmqctl", args, { timeout: 60_000 });
  return stdout;
}

/** A `rabbitmqctl list_*` table as rows of columns, without its headers. */
export async function listBroker(what: string, ...columns: string[]): Promise<string[][]> {
  const out = await rabbitmqctl(what, "-q", "--no-table-headers", ...columns);
  return out
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => line.split("\t"));
}

/** Exchanges made by uniqueExchange, deleted after their suite: exchanges are durable and would pile up. */
const exchangesMade = new Set<string>();

/** An exchange name no other test run uses. */
export function uniqueExchange(prefix = "agentspace-test"): string {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  exchangesMade.add(name);
  return name;
}

/** Deletes every exchange uniqueExchange made: call once all suites of the file are done. */
export async function deleteExchangesMade(): Promise<void> {
  const probe = await probeBroker();
  if (!probe.available || exchangesMade.size === 0) return;
  const names = [...exchangesMade];
  exchangesMade.clear();
  const options = probe.options;
  const model = await connect({ hostname: options.hostname, port: options.port, username: options.username, password: options.password, vhost: options.virtualHost });
  try {
    const channel = await model.createChannel();
    for (const name of names) await channel.deleteExchange(name);
  } finally {
    await model.close();
  }
}
