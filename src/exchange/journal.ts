/**
 * Where the exchange keeps its mailboxes: nowhere (memory only), or in
 * Redis, so that they and every unacknowledged message outlive a restart.
 */
import type { createClient } from "redis";
import type { EntityId } from "./wire.js";

/** A message in a mailbox: its journal id, its JSON and that JSON's size. */
export interface Entry {
  readonly seq: string;
  readonly text: string;
  readonly bytes: number;
}

/** A mailbox's lasting part: who it is, who owns it, what class of agent, whether it ended, whom it is shared with. */
export interface StoredMailbox {
  id: EntityId;
  owner: string;
  agent: string[] | undefined;
  terminated: boolean;
  shares: string[];
}

/**
 * A journal id as a number that orders a mailbox's messages: an SSE event's
 * id (Academy's client reads it as an integer). Redis's "ms-n" is ms·2³² + n.
 */
export function positionOf(seq: string): bigint {
  const [high = "0", low = "0"] = seq.split("-");
  return (BigInt(high) << 32n) + BigInt(low);
}

export interface Journal {
  /** Every mailbox kept, with the messages not acknowledged, oldest first. */
  load(): Promise<{ mailbox: StoredMailbox; entries: Entry[] }[]>;
  saveMailbox(mailbox: StoredMailbox): Promise<void>;
  /** Keeps a message for `uid`; resolves with its id once kept (only then is the send answered). */
  append(uid: string, text: string): Promise<string>;
  /** Acknowledged messages; failures are reported, not thrown (the message would come again, at worst). */
  remove(uid: string, seqs: string[]): void;
  /** Drops every message of `uid` (its mailbox ended). */
  clear(uid: string): Promise<void>;
  close(): Promise<void>;
}

/** Keeps nothing: the mailboxes live as long as the exchange. */
export class MemoryJournal implements Journal {
  // From the clock, as Redis's are: a Last-Event-Id from before a restart names no later message.
  #next = Date.now() * 1000;
  async load(): Promise<never[]> {
    return [];
  }
  async saveMailbox(): Promise<void> {}
  async append(): Promise<string> {
    return String(this.#next++);
  }
  remove(): void {}
  async clear(): Promise<void> {}
  async close(): Promise<void> {}
}

type Client = ReturnType<typeof createClient>;

/**
 * Mailboxes in Redis: a hash per mailbox (`<prefix>mailbox:<uid>`) and a
 * stream of its messages (`<prefix>queue:<uid>`), each acknowledged message
 * deleted from it. Keys under the prefix only; what is read back is checked.
 */
export class RedisJournal implements Journal {
  readonly #client: Client;
  readonly #prefix: string;
  readonly #onError: (error: Error) => void;

  private constructor(client: Client, prefix: string, onError: (error: Error) => void) {
    this.#client = client;
    this.#prefix = prefix;
    this.#onError = onError;
  }

  static async open(url: string, prefix: string, onError: (error: Error) => void): Promise<RedisJournal> {
    // Loaded only for --redis: an exchange in memory never pays for the client.
    const redis = await import("redis");
    const client: Client = redis.createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000) } });
    client.on("error", (error: Error) => onError(error));
    try {
      await client.connect();
    } catch (error) {
      await client.disconnect().catch(() => undefined);
      throw new Error(`cannot reach Redis at ${url} for the exchange's mailboxes: ${(error as Error).message}; start Redis or pass another --redis URL`, { cause: error });
    }
    return new RedisJournal(client, prefix, onError);
  }

  #mailboxKey(uid: string): string {
    return `${this.#prefix}mailbox:${uid}`;
  }

  #queueKey(uid: string): string {
    return `${this.#prefix}queue:${uid}`;
  }

  async load(): Promise<{ mailbox: StoredMailbox; entries: Entry[] }[]> {
    const loaded: { mailbox: StoredMailbox; entries: Entry[] }[] = [];
    for await (const keys of this.#client.scanIterator({ MATCH: `${this.#prefix}mailbox:*`, COUNT: 500 })) {
      for (const key of ([] as string[]).concat(keys)) {
        const raw = await this.#client.get(key);
        const mailbox = raw === null ? undefined : storedMailboxOf(raw);
        if (mailbox === undefined || this.#mailboxKey(mailbox.id.uid) !== key) {
          this.#onError(new Error(`skipped ${key}: not a mailbox this exchange wrote`));
          continue;
        }
        const entries: Entry[] = [];
        const items = (await this.#client.xRange(this.#queueKey(mailbox.id.uid), "-", "+")) ?? [];
        for (const item of items) {
          if (item === null) continue;
          const { id, message } = item;
          const text = message?.m;
          if (typeof text === "string") entries.push({ seq: id, text, bytes: Buffer.byteLength(text, "utf8") });
        }
        loaded.push({ mailbox, entries });
      }
    }
    return loaded;
  }

  async saveMailbox(mailbox: StoredMailbox): Promise<void> {
    await this.#client.set(this.#mailboxKey(mailbox.id.uid), JSON.stringify(mailbox));
  }

  async append(uid: string, text: string): Promise<string> {
    return this.#client.xAdd(this.#queueKey(uid), "*", { m: text });
  }

  remove(uid: string, seqs: string[]): void {
    this.#client.xDel(this.#queueKey(uid), seqs).catch((error: Error) => this.#onError(new Error(`acknowledging ${seqs.length} message(s) of ${uid} in Redis failed (they come again after a restart)`, { cause: error })));
  }

  async clear(uid: string): Promise<void> {
    await this.#client.del(this.#queueKey(uid));
  }

  async close(): Promise<void> {
    await this.#client.quit().catch(() => this.#client.disconnect().catch(() => undefined));
  }
}

function storedMailboxOf(raw: string): StoredMailbox | undefined {
  try {
    const value = JSON.parse(raw) as Partial<StoredMailbox>;
    const id = value.id;
    if (typeof id?.uid !== "string" || (id.role !== "agent" && id.role !== "user")) return undefined;
    if (typeof value.owner !== "string" || typeof value.terminated !== "boolean" || !Array.isArray(value.shares)) return undefined;
    if (value.agent !== undefined && value.agent !== null && !(Array.isArray(value.agent) && value.agent.every((name) => typeof name === "string"))) return undefined;
    if (!value.shares.every((group) => typeof group === "string")) return undefined;
    return {
      id: { uid: id.uid, name: typeof id.name === "string" ? id.name : null, role: id.role },
      owner: value.owner,
      agent: value.agent ?? undefined,
      terminated: value.terminated,
      shares: value.shares,
    };
  } catch {
    return undefined;
  }
}
