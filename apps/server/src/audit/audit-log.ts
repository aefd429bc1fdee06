import { createHash } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import type { AuditEntry, AuditLog, AuditOutcome, AuditVerifyResult } from "./audit-types.js";
import { canonicalJson } from "./canonical-json.js";

export const GENESIS_HASH = "0".repeat(64);
const MAX_PAGE = 1000;

interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  details: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditLogOptions {
  clock?: () => number;
}

/**
 * The append-only audit log in server.db. Each entry's hash covers the previous entry's hash
 * and the entry itself (id included), so editing, deleting or reordering an entry in the
 * database breaks the chain at that entry and `verify` names it. Deleting the newest entries
 * shows as a gap in the ids once the next entry is appended; until then nothing inside the
 * database can tell (there is no external anchor).
 */
export function createAuditLog(db: DatabaseSync, options: AuditLogOptions = {}): AuditLog {
  const clock = options.clock ?? Date.now;
  const lastHash = db.prepare("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1");
  // AUTOINCREMENT's counter outlives deleted rows: entries cut off the end leave a gap in the ids.
  const lastIssued = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'");
  const insert = db.prepare(
    "INSERT INTO audit_log (id, at, actor, action, target, outcome, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
  );
  const pageBefore = db.prepare("SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?");
  const pageNewest = db.prepare("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?");
  const walk = db.prepare("SELECT * FROM audit_log ORDER BY id ASC");

  return {
    append(input) {
      db.exec("BEGIN IMMEDIATE");
      try {
        const last = lastHash.get() as { id: number; hash: string } | undefined;
        const issued = (lastIssued.get() as { seq: number } | undefined)?.seq ?? 0;
        const entry: Omit<AuditEntry, "hash"> = {
          id: Math.max(issued, last?.id ?? 0) + 1,
          at: clock(),
          actor: input.actor,
          action: input.action,
          ...(input.target === undefined ? {} : { target: input.target }),
          outcome: input.outcome,
          ...(input.details === undefined ? {} : { details: input.details }),
          prevHash: last?.hash ?? GENESIS_HASH,
        };
        const hash = entryHash(entry);
        insert.run(
          entry.id,
          entry.at,
          entry.actor,
          entry.action,
          entry.target ?? null,
          entry.outcome,
          entry.details === undefined ? null : JSON.stringify(entry.details),
          entry.prevHash,
          hash,
        );
        db.exec("COMMIT");
        return { ...entry, hash };
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    },

    list({ beforeId, limit }) {
      const size = Number.isFinite(limit) ? Math.max(1, Math.min(MAX_PAGE, Math.trunc(limit))) : MAX_PAGE;
      const rows = (beforeId === undefined ? pageNewest.all(size) : pageBefore.all(beforeId, size)) as unknown as AuditRow[];
      return rows.map(rowToEntry);
    },

    verify(): AuditVerifyResult {
      let previous = GENESIS_HASH;
      let checked = 0;
      for (const row of walk.iterate() as Iterable<AuditRow>) {
        const entry = safeRowToEntry(row);
        // Ids run 1, 2, 3, ... with no gap: a gap is an entry deleted (even the newest, once another follows).
        if (entry === undefined || row.id !== checked + 1 || row.prev_hash !== previous || entryHash(entry) !== row.hash) {
          return { intact: false, checked, firstBrokenId: row.id };
        }
        previous = row.hash;
        checked += 1;
      }
      return { intact: true, checked };
    },
  };
}

function entryHash(entry: Omit<AuditEntry, "hash"> & { hash?: string }): string {
  const { prevHash, hash: _stored, ...body } = entry;
  return createHash("sha256").update(prevHash).update("\n").update(canonicalJson(body)).digest("hex");
}

function rowToEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    ...(row.target === null ? {} : { target: row.target }),
    outcome: row.outcome,
    ...(row.details === null ? {} : { details: JSON.parse(row.details) as Record<string, unknown> }),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** An edited row may not even hold JSON any more; that is a broken entry, not a crash. */
function safeRowToEntry(row: AuditRow): AuditEntry | undefined {
  try {
    return rowToEntry(row);
  } catch {
    return undefined;
  }
}
