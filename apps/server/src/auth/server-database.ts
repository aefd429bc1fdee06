import { chmodSync, existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { AuthError } from "./auth-errors.js";

/**
 * Schema steps, applied in order; `PRAGMA user_version` records how many ran. Append a step
 * to change the schema; never edit one that shipped.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE users (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     username TEXT NOT NULL UNIQUE COLLATE NOCASE,
     role TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'operator', 'viewer')),
     password_hash TEXT NOT NULL,
     totp_secret TEXT,
     mfa_confirmed INTEGER NOT NULL DEFAULT 0,
     totp_last_step INTEGER NOT NULL DEFAULT -1,
     failed_logins INTEGER NOT NULL DEFAULT 0,
     locked_until INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_login_at INTEGER
   ) STRICT;
   CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     target TEXT,
     outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
     details TEXT,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   ) STRICT;`,
];

export const SERVER_DATABASE_VERSION = MIGRATIONS.length;

/**
 * Opens (creating when missing) `server.db`: users and the audit log. WAL with
 * synchronous=FULL so an acknowledged login or audit entry survives a power cut. `:memory:`
 * works for tests. The database and its -wal/-shm files are made owner-only: they hold
 * password hashes and TOTP secrets.
 */
export function openServerDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
    migrate(db);
    if (path !== ":memory:") restrictToOwner(path);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function restrictToOwner(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}

function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get() as { user_version: number };
  if (row.user_version > MIGRATIONS.length) {
    throw new AuthError(
      "ERR_AUTH_DATABASE_TOO_NEW",
      `server.db has schema version ${row.user_version}, newer than this node-mirth knows (${MIGRATIONS.length}); upgrade node-mirth`,
      { details: { found: row.user_version, known: MIGRATIONS.length } },
    );
  }
  for (let version = row.user_version; version < MIGRATIONS.length; version += 1) {
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
}
