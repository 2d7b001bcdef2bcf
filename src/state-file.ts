import { createRequire } from "node:module";
import { resolve } from "node:path";
import type { StateSink } from "./host/durable-state.js";

// The part of better-sqlite3 used here, declared so that the library's types need not its @types package.
interface Statement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
interface Database {
  readonly open: boolean;
  pragma(source: string): unknown;
  exec(source: string): unknown;
  prepare(source: string): Statement;
  close(): unknown;
}
type DatabaseClass = new (path: string) => Database;

/**
 * Durable agents' states in a SQLite file (better-sqlite3), one row per agent
 * id: its state as JSON text and its holder. Every thread that hosts durable
 * agents opens the file itself and writes synchronously, so a state is on
 * disk before the answer leaves the thread; WAL mode lets those threads (and
 * other processes) share the file, and a process that dies loses nothing it
 * committed (synchronous=NORMAL: only a power cut can take the last writes).
 *
 * The holder is the space's token: a space that claims an id takes it, and
 * a write or delete by any other holder changes nothing (fencing two
 * processes that were given the same id and file).
 */
export class StateFile {
  readonly path: string;
  readonly #db: Database;
  readonly #claim: Statement;
  readonly #write: Statement;
  readonly #delete: Statement;

  private constructor(path: string, db: Database) {
    this.path = path;
    this.#db = db;
    // Ours from the first pragma on: another thread may be creating the table at the same moment.
    db.pragma("busy_timeout = 10000");
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec(`CREATE TABLE IF NOT EXISTS agent_state (
      id TEXT PRIMARY KEY,
      state TEXT,
      holder TEXT NOT NULL,
      written_at INTEGER NOT NULL
    ) WITHOUT ROWID`);
    this.#claim = db.prepare(
      `INSERT INTO agent_state (id, state, holder, written_at) VALUES (?, NULL, ?, ?)
       ON CONFLICT (id) DO UPDATE SET holder = excluded.holder RETURNING state`,
    );
    this.#write = db.prepare(`UPDATE agent_state SET state = ?, written_at = ? WHERE id = ? AND holder = ?`);
    this.#delete = db.prepare(`DELETE FROM agent_state WHERE id = ? AND holder = ?`);
  }

  /** Opens (creating it if need be) the file at `path`; a clear error when better-sqlite3 is not installed. */
  static open(path: string): StateFile {
    const full = resolve(path);
    let Sqlite: DatabaseClass;
    try {
      Sqlite = createRequire(import.meta.url)("better-sqlite3") as DatabaseClass;
    } catch (error) {
      throw new Error(
        `durable agents with a store file need better-sqlite3, which did not load (${(error as Error).message}): ` +
          `npm install better-sqlite3@12 (version 13 needs Node 22)`,
        { cause: error },
      );
    }
    try {
      return new StateFile(full, new Sqlite(full));
    } catch (error) {
      throw new Error(`the store file ${full} could not be opened: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Makes `holder` the holder of `id`; its last written state, or undefined. */
  claim(id: string, holder: string): string | undefined {
    const row = this.#claim.get(id, holder, Date.now()) as { state: string | null } | undefined;
    return row?.state ?? undefined;
  }

  /** False when `holder` no longer holds `id` (nothing was written). */
  write(id: string, holder: string, state: string): boolean {
    return this.#write.run(state, Date.now(), id, holder).changes === 1;
  }

  /** Deletes `id`'s state, if `holder` still holds it. */
  delete(id: string, holder: string): void {
    this.#delete.run(id, holder);
  }

  /** The states in the file by id (for tools and tests). */
  states(): Map<string, unknown> {
    const rows = this.#db.prepare(`SELECT id, state FROM agent_state WHERE state IS NOT NULL`).all() as Array<{ id: string; state: string }>;
    return new Map(rows.map((row) => [row.id, JSON.parse(row.state)]));
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }

  /** A host's sink writing to this file as `holder`: unchanged states are not written again. */
  sink(holder: string): StateSink {
    return {
      // One write per agent per turn: many messages handled in a turn share it (and a deferred write is always a change).
      deferred: true,
      claim: (id) => this.claim(id, holder),
      write: (id, state) => this.write(id, holder, state),
    };
  }
}
