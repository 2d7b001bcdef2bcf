import type { HelpEntry } from "../action.js";
import { describeError } from "../errors.js";
import type { AgentRow } from "./agent-rows.js";
import type { LastError } from "./sampler.js";
import type { InspectedSpace } from "./types.js";

/** What the page's detail panel shows of one agent. */
export interface AgentDetail {
  id: string;
  row: AgentRow | undefined;
  /** Its actions (the `help` action), or why they could not be read. */
  help: Record<string, HelpEntry> | { unavailable: string };
  /** Its own fields (the `inspect` action) in a debug space, or why not. */
  state: unknown;
  lastError: LastError | undefined;
}

// An agent that does not answer (a busy loop, a full mailbox) must not hold the page's request for long.
const ASK_TIMEOUT_MS = 3_000;
// The state is shown, not kept: a huge one is cut, not sent whole.
const MAX_STATE_CHARS = 64 * 1024;

/** Asks a running agent for its help (and state, in debug spaces); a departed one has only its last row and error. */
export async function agentDetail(
  { space, debug }: InspectedSpace,
  id: string,
  running: boolean,
  row: AgentRow | undefined,
  lastError: LastError | undefined,
): Promise<AgentDetail> {
  if (!running) return { id, row, help: { unavailable: "the agent has left the space" }, state: undefined, lastError };
  const handle = space.handle(id, { timeoutMs: ASK_TIMEOUT_MS });
  const [help, state] = await Promise.all([
    handle.help().catch((error: unknown) => ({ unavailable: describeError(error) })),
    debug
      ? handle.inspect().then(capped, (error: unknown) => ({ unavailable: describeError(error) }))
      : Promise.resolve({ unavailable: "inspect needs a space in debug mode ({ debug: true })" }),
  ]);
  return { id, row, help, state, lastError };
}

/** The state as JSON can carry it (BigInts as text), or a note that it was too large. */
function capped(state: unknown): unknown {
  let json: string;
  try {
    json = JSON.stringify(state, (_key, value: unknown) => (typeof value === "bigint" ? `${value}n` : value)) ?? "null";
  } catch (error) {
    return { unavailable: `the state cannot be shown as JSON: ${describeError(error)}` };
  }
  if (json.length > MAX_STATE_CHARS) return { unavailable: `the state is ${json.length} characters of JSON: too large to show` };
  return JSON.parse(json) as unknown;
}
