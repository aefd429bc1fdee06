import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { RemoteFileError } from "./errors.js";

/** A file as the ledger identifies it: where it is, and which version of it (size, mtime). */
export interface LedgerKey {
  /** Scheme, host and path: one ledger may serve several readers. */
  location: string;
  size: number;
  mtimeMs: number;
}

/**
 * `processed` / `failed`: its messages are committed (without / with an ERROR), the
 * after-action for that outcome is pending. `done`: left in place on purpose.
 */
export type LedgerState = "processed" | "failed" | "done";

function ledgerError(action: string, cause: unknown): RemoteFileError {
  return new RemoteFileError("ERR_REMOTEFILE_LEDGER_FAILED", `processed-file ledger: ${action} failed: ${(cause as Error).message}`, { cause, details: { action } });
}

/**
 * The processed-file ledger: one small SQLite file (WAL, synchronous=FULL) of the reader's
 * own. Rows are written, and synced, after files' messages are committed and before the
 * files are acknowledged (deleted or moved), so a crash in between never reads them twice;
 * a file left in place stays `done` so it is not read again unless it changes.
 */
export class FileLedger {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #put: StatementSync;
  readonly #remove: StatementSync;

  constructor(path: string) {
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.#db = new DatabaseSync(path);
      this.#db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
      this.#db.exec(
        "CREATE TABLE IF NOT EXISTS processed_files (location TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL, state TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (location, size, mtime_ms))",
      );
      this.#get = this.#db.prepare("SELECT state FROM processed_files WHERE location = ? AND size = ? AND mtime_ms = ?");
      this.#put = this.#db.prepare("INSERT OR REPLACE INTO processed_files (location, size, mtime_ms, state, at) VALUES (?, ?, ?, ?, ?)");
      this.#remove = this.#db.prepare("DELETE FROM processed_files WHERE location = ? AND size = ? AND mtime_ms = ?");
    } catch (error) {
      throw ledgerError("opening", error);
    }
  }

  state(key: LedgerKey): LedgerState | undefined {
    try {
      const row = this.#get.get(key.location, key.size, Math.floor(key.mtimeMs)) as { state: LedgerState } | undefined;
      return row?.state;
    } catch (error) {
      throw ledgerError("reading", error);
    }
  }

  /** Records several files in one synced transaction. */
  recordMany(entries: readonly { key: LedgerKey; state: LedgerState }[]): void {
    if (entries.length === 0) return;
    this.#transaction("writing", () => {
      const at = Date.now();
      for (const { key, state } of entries) this.#put.run(key.location, key.size, Math.floor(key.mtimeMs), state, at);
    });
  }

  /** After the after-actions: rows of deleted or moved files go, left files become `done`; one transaction. */
  settle(change: { forget: readonly LedgerKey[]; done: readonly LedgerKey[] }): void {
    if (change.forget.length === 0 && change.done.length === 0) return;
    this.#transaction("writing", () => {
      const at = Date.now();
      for (const key of change.forget) this.#remove.run(key.location, key.size, Math.floor(key.mtimeMs));
      for (const key of change.done) this.#put.run(key.location, key.size, Math.floor(key.mtimeMs), "done", at);
    });
  }

  #transaction(action: string, body: () => void): void {
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      try {
        body();
        this.#db.exec("COMMIT");
      } catch (error) {
        this.#db.exec("ROLLBACK");
        throw error;
      }
    } catch (error) {
      throw ledgerError(action, error);
    }
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
