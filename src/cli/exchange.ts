/**
 *   agentspace exchange [--port <n>] [--host <host>] [--redis <url> [--redis-prefix <p>]] [--auth <tokens.json>] [--tls-cert f --tls-key f]
 */
import { parseArgs } from "node:util";
import { Exchange } from "../exchange/index.js";
import { portFlag, positiveFlag } from "./flags.js";

export const exchangeUsage = `Usage: agentspace exchange [--port <n>] [--host <host>] [--redis <url> [--redis-prefix <p>]] [--auth <tokens.json>]
                             [--tls-cert <file> --tls-key <file>] [--max-message-bytes <n>] [--max-mailbox-bytes <n>]

Runs an HTTP exchange speaking Academy's protocol: mailboxes for Python Academy
agents and clients, and for HttpSpace agents (new HttpSpace({ url })).

  --port <n>        default 8700 (0: any free port)
  --host <host>     default 127.0.0.1; 0.0.0.0 to take connections from elsewhere
  --redis <url>     keep mailboxes and their messages in Redis: they outlive a restart
  --redis-prefix <p>  the keys' prefix in Redis (default "agentspace-exchange:"): one per exchange sharing a Redis
  --auth <file>     bearer tokens, { "<token>": { "client": "alice", "groups": ["lab"] } }:
                    a mailbox is its creator's and its groups'; a message's src must be the caller's
  --tls-cert/--tls-key  serve HTTPS with this PEM certificate and key
  --max-message-bytes <n>  a message's serialized size at most (default 1048576, Academy's)
  --max-mailbox-bytes <n>  what one mailbox may hold before sends to it get 429 (default 67108864)
`;

export class ExchangeUsageError extends Error {}

/** Runs an exchange until SIGINT or SIGTERM; resolves with the exit code. */
export async function runExchange(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        redis: { type: "string" },
        "redis-prefix": { type: "string" },
        auth: { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "max-message-bytes": { type: "string" },
        "max-mailbox-bytes": { type: "string" },
      },
    }));
  } catch (error) {
    throw new ExchangeUsageError((error as Error).message);
  }
  const port = portFlag("port", values.port, ExchangeUsageError) ?? 8700;
  const cert = values["tls-cert"];
  const key = values["tls-key"];
  if ((cert === undefined) !== (key === undefined)) throw new ExchangeUsageError("--tls-cert and --tls-key go together");
  const redisPrefix = values["redis-prefix"];
  if (redisPrefix !== undefined && values.redis === undefined) throw new ExchangeUsageError("--redis-prefix goes with --redis <url>");
  if (redisPrefix === "") throw new ExchangeUsageError("--redis-prefix takes a non-empty prefix, such as \"lab-exchange:\"");
  const maxMessageBytes = positiveFlag("max-message-bytes", values["max-message-bytes"], ExchangeUsageError);
  const maxMailboxBytes = positiveFlag("max-mailbox-bytes", values["max-mailbox-bytes"], ExchangeUsageError);
  const exchange = await Exchange.start({
    port,
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values.redis === undefined ? {} : { redis: values.redis }),
    ...(redisPrefix === undefined ? {} : { redisPrefix }),
    ...(values.auth === undefined ? {} : { auth: values.auth }),
    ...(cert === undefined || key === undefined ? {} : { tls: { cert, key } }),
    limits: {
      ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
      ...(maxMailboxBytes === undefined ? {} : { maxMailboxBytes }),
    },
  });
  const kept = values.redis === undefined ? "mailboxes in memory" : `mailboxes in Redis at ${values.redis}${redisPrefix === undefined ? "" : ` under ${redisPrefix}`}`;
  console.log(`[exchange] listening at ${exchange.url} (${kept}${values.auth === undefined ? ", no auth" : ", tokens from " + values.auth})`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await exchange.close();
  return 0;
}
