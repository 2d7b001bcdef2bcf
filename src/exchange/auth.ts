/**
 * `--auth tokens.json`: bearer tokens, each naming a client and its groups.
 * Without it every request runs as the one anonymous client "", as on
 * Academy's own server without Globus.
 */
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import type { Caller } from "./mailboxes.js";

export const ANONYMOUS: Caller = Object.freeze({ client: "", groups: new Set<string>() });

/** A tokens file that cannot be used as written. */
export class TokensFileError extends Error {}

export type Tokens = ReadonlyMap<string, Caller>;

/** Reads and checks a tokens file: `{ "<token>": { "client": "alice", "groups": ["lab"] }, … }`. */
export function loadTokens(path: string): Tokens {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new TokensFileError(`cannot read the tokens file ${path}: ${(error as Error).message}`);
  }
  return tokensOf(value, path);
}

export function tokensOf(value: unknown, where = "tokens"): Tokens {
  const example = `{ "<token>": { "client": "alice", "groups": ["lab"] } }`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TokensFileError(`${where} must hold an object of tokens, as ${example}`);
  }
  const tokens = new Map<string, Caller>();
  for (const [token, entry] of Object.entries(value)) {
    if (token.length < 16) throw new TokensFileError(`${where}: a token must be at least 16 characters (one is ${token.length}); make them long and random`);
    const { client, groups = [] } = (entry ?? {}) as { client?: unknown; groups?: unknown };
    if (typeof client !== "string" || client.length === 0) throw new TokensFileError(`${where}: each token needs a "client" name, as ${example}`);
    if (!Array.isArray(groups) || !groups.every((group) => typeof group === "string" && group.length > 0)) {
      throw new TokensFileError(`${where}: "groups" of client "${client}" must be a list of names`);
    }
    tokens.set(token, Object.freeze({ client, groups: new Set(groups as string[]) }));
  }
  if (tokens.size === 0) throw new TokensFileError(`${where} holds no token: add one, as ${example}`);
  return tokens;
}

/** Who is calling, or the status and text Academy's server gives: 401 without a token, 401 for one it does not know. */
export function callerOf(tokens: Tokens | undefined, headers: IncomingHttpHeaders): Caller | { status: 401; text: string } {
  if (tokens === undefined) return ANONYMOUS;
  const header = headers.authorization;
  if (header === undefined) return { status: 401, text: "Missing required headers." };
  const match = /^Bearer (.+)$/i.exec(header);
  const caller = match ? tokens.get(match[1]!.trim()) : undefined;
  if (caller === undefined) return { status: 401, text: "Invalid token." };
  return caller;
}
