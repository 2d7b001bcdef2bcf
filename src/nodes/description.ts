import type { MailboxPolicy } from "../host/mailbox.js";

/** What a node advertises about itself in Redis while it runs. */
export interface NodeDescription {
  name: string;
  host: string;
  pid: number;
  cores: number;
  /** Total memory of the host, in bytes. */
  memory: number;
  /** Agents it hosts at most. */
  capacity: number;
  /** The agent classes it offers, by class name. */
  classes: string[];
  /** When this run of the node started (ms since the epoch). */
  startedAt: number;
}

export type RestartPolicy = "never" | "on-failure" | "always";
export const restartPolicies: readonly RestartPolicy[] = ["never", "on-failure", "always"];

/** How a placed agent is started, on whichever node: kept in Redis beside its placement. */
export interface LaunchSpec {
  className: string;
  init: unknown;
  restart: RestartPolicy;
  mailboxSize?: number;
  mailboxPolicy?: MailboxPolicy;
}

/** A node's name: it goes into Redis keys and an agent id, so plain characters only. */
export function nodeNameProblem(name: unknown): string | undefined {
  if (typeof name !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) {
    return `a node name is 1–100 letters, digits, ".", "_" or "-", starting with a letter or digit, not ${JSON.stringify(name)}`;
  }
  return undefined;
}

/** The id of the agent through which a node takes requests (launch, stop): its mailbox is a Redis stream like any agent's. */
export function controlIdOf(name: string): string {
  return `agentspace-node.${name}`;
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** A JSON object read back from Redis, or why it is not one. Anyone who can write there can write it: callers check each field. */
export function parseJsonObject(raw: unknown): Record<string, unknown> | string {
  if (typeof raw !== "string") return "missing";
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : "not a JSON object";
}

/** A description read back from Redis, checked field by field. */
export function parseDescription(raw: unknown): NodeDescription | undefined {
  const d = parseJsonObject(raw);
  if (typeof d === "string") return undefined;
  if (nodeNameProblem(d.name) || typeof d.host !== "string") return undefined;
  if (!isCount(d.pid) || !isCount(d.cores) || !isCount(d.memory) || !isCount(d.capacity) || !isCount(d.startedAt)) return undefined;
  if (!Array.isArray(d.classes) || !d.classes.every((name) => typeof name === "string")) return undefined;
  return {
    name: d.name as string,
    host: d.host,
    pid: d.pid,
    cores: d.cores,
    memory: d.memory,
    capacity: d.capacity,
    classes: d.classes as string[],
    startedAt: d.startedAt,
  };
}

/** A launch spec read back from Redis, or why it is not one. */
export function parseSpec(raw: unknown): LaunchSpec | string {
  const s = parseJsonObject(raw);
  if (typeof s === "string") return s;
  if (typeof s.className !== "string" || s.className.length === 0) return "no class name";
  if (!(restartPolicies as readonly unknown[]).includes(s.restart)) return `restart ${JSON.stringify(s.restart)} is none of ${restartPolicies.join(", ")}`;
  if (s.mailboxSize !== undefined && !(isCount(s.mailboxSize) && s.mailboxSize > 0)) return "mailboxSize is not a positive whole number";
  if (s.mailboxPolicy !== undefined && s.mailboxPolicy !== "reject" && s.mailboxPolicy !== "wait") return "mailboxPolicy is neither reject nor wait";
  const spec: LaunchSpec = { className: s.className, init: s.init ?? undefined, restart: s.restart as RestartPolicy };
  if (s.mailboxSize !== undefined) spec.mailboxSize = s.mailboxSize as number;
  if (s.mailboxPolicy !== undefined) spec.mailboxPolicy = s.mailboxPolicy as MailboxPolicy;
  return spec;
}
