import type { DatabaseSync } from "node:sqlite";

/** Runs `body` in one `BEGIN IMMEDIATE` transaction: committed whole, or rolled back and rethrown. */
export function inTransaction(db: DatabaseSync, body: () => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    body();
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
