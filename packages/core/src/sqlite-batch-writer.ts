import type { DatabaseSync, StatementSync } from "node:sqlite";
// .ts names: the write worker runs this file from source under Node's type stripping.
import { mergeStatistics, type StoreWrite } from "./message-store.ts";
import { inTransaction } from "./sqlite-transaction.ts";

/**
 * Applies batches of StoreWrite to one SQLite connection, one transaction per batch. The
 * only writer of the message pipeline: it runs on the SqliteStore's write worker, so the
 * COMMIT and its fsync never hold the event loop that answers peers.
 */
export class SqliteBatchWriter {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Commits the batch atomically or rolls it back and rethrows SQLite's error. */
  write(batch: readonly StoreWrite[]): void {
    inTransaction(this.#db, () => {
      for (const write of batch) this.#apply(write);
      for (const { channelId, connectorId, delta } of mergeStatistics(batch).values()) {
        this.#statement(
          `INSERT INTO statistics (channel_id, connector_id, received, filtered, queued, sent, errored)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (channel_id, connector_id) DO UPDATE SET
             received = received + excluded.received, filtered = filtered + excluded.filtered,
             queued = queued + excluded.queued, sent = sent + excluded.sent, errored = errored + excluded.errored`,
        ).run(
          channelId,
          connectorId,
          delta.received,
          delta.filtered,
          delta.queued,
          delta.sent,
          delta.errored,
        );
      }
    });
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #apply(write: StoreWrite): void {
    switch (write.op) {
      case "insertMessage":
        this.#statement(
          "INSERT INTO messages (channel_id, message_id, received_at) VALUES (?, ?, ?)",
        ).run(write.channelId, write.messageId, write.receivedAt);
        return;
      case "setStatus":
        // Omitted fields keep their stored value, as in MemoryStore.
        this.#statement(
          `INSERT INTO connector_messages
             (channel_id, message_id, connector_id, status, send_attempts, dead_letter, lane_key, error, updated_at)
           VALUES (?, ?, ?, ?, coalesce(?, 0), coalesce(?, 0), ?, ?, ?)
           ON CONFLICT (channel_id, message_id, connector_id) DO UPDATE SET
             status = excluded.status,
             send_attempts = coalesce(?, send_attempts),
             dead_letter = coalesce(?, dead_letter),
             lane_key = coalesce(excluded.lane_key, lane_key),
             error = excluded.error,
             updated_at = excluded.updated_at`,
        ).run(
          write.channelId,
          write.messageId,
          write.connectorId,
          write.status,
          write.sendAttempts ?? null,
          toFlag(write.deadLetter),
          write.laneKey ?? null,
          write.error ?? null,
          write.updatedAt,
          write.sendAttempts ?? null,
          toFlag(write.deadLetter),
        );
        return;
      case "putContent":
        this.#statement(
          `INSERT INTO contents (channel_id, message_id, connector_id, kind, content) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (channel_id, message_id, connector_id, kind) DO UPDATE SET content = excluded.content`,
        ).run(write.channelId, write.messageId, write.connectorId, write.kind, write.content);
        return;
      case "deleteContent":
        this.#statement(
          "DELETE FROM contents WHERE channel_id = ? AND message_id = ? AND connector_id = ? AND kind = ?",
        ).run(write.channelId, write.messageId, write.connectorId, write.kind);
        return;
      case "putMetadata": {
        const put = this.#statement(
          `INSERT INTO metadata_values (channel_id, message_id, name, value) VALUES (?, ?, ?, ?)
           ON CONFLICT (channel_id, message_id, name) DO UPDATE SET value = excluded.value`,
        );
        for (const [name, value] of Object.entries(write.values))
          put.run(write.channelId, write.messageId, name, value);
        return;
      }
      case "addStatistics":
        // Merged and applied once per batch by `write`.
        return;
      case "deleteMessage":
        this.#statement("DELETE FROM messages WHERE channel_id = ? AND message_id = ?").run(
          write.channelId,
          write.messageId,
        );
        return;
    }
  }
}

function toFlag(value: boolean | undefined): number | null {
  return value === undefined ? null : value ? 1 : 0;
}
