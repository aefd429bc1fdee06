/* eslint-disable @typescript-eslint/require-await -- MessageStore is async for stores that do I/O
   (PostgreSQL); this one works synchronously, and async turns its throws into rejections. */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import { NodeMirthError } from "./errors.js";
import {
  clampSearchLimit,
  DEFAULT_PRUNE_BATCH_SIZE,
  DEFAULT_TEXT_SCAN_LIMIT,
  SOURCE_CONNECTOR_ID,
  type ConnectorMessageRecord,
  type ContentKind,
  type MessageDetail,
  type MessageQuery,
  type MessageStatus,
  type MessageStore,
  type MessageSummary,
  type PruneOptions,
  type PruneResult,
  type StatisticsCounts,
  type StoreMetrics,
  type StoreWrite,
  type UnfinishedWork,
} from "./message-store.js";
import { SQLITE_CONNECTION_PRAGMAS, SQLITE_SCHEMA } from "./sqlite-schema.js";
import { inTransaction } from "./sqlite-transaction.js";
import type { WriteReply, WriteRequest } from "./sqlite-write-protocol.js";

export interface SqliteStoreOptions {
  /** Directory of the database; created when missing. The file is `<dataDir>/messages.db`. */
  dataDir: string;
  fileName?: string;
}

type Row = Record<string, unknown>;

/**
 * The worker's file next to this module: `.ts` when running from source (tests, benches
 * under Node's type stripping), `.js` in dist/ where tsup builds it as its own entry.
 */
const WRITE_WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./sqlite-write-worker.ts" : "./sqlite-write-worker.js",
  import.meta.url,
);

interface WriteWaiter {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
  writes: number;
}

function closedError(): NodeMirthError {
  return new NodeMirthError("ERR_STORE_CLOSED", "The message store is closed.");
}

function writeFailed(cause: unknown, writes: number): NodeMirthError {
  return new NodeMirthError(
    "ERR_STORE_WRITE_FAILED",
    "A message store transaction failed and was rolled back.",
    { cause, details: { writes } },
  );
}

/**
 * The embedded default store: one SQLite file in WAL mode with `synchronous=FULL`, so a
 * resolved `write` survives power loss. Every `write` is one transaction, and the group
 * commit in front of it makes that one fsync for many messages. The pipeline's writes run
 * on a worker thread with its own connection: a COMMIT waits for the disk, and on the
 * event loop that wait delayed every ACK behind it (issue 5's ACK p99). Reads and the
 * operator's removals and prunes stay on this thread's connection; WAL keeps both apart.
 */
export class SqliteStore implements MessageStore {
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #worker: Worker;
  readonly #waiters = new Map<number, WriteWaiter>();
  #nextWriteId = 1;
  /** Set when the write worker died: every later write fails instead of hanging. */
  #failure: NodeMirthError | undefined;
  #metrics: StoreMetrics = { commits: 0, writes: 0 };
  #closed = false;

  constructor(options: SqliteStoreOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.path = join(options.dataDir, options.fileName ?? "messages.db");
    this.#db = new DatabaseSync(this.path);
    this.#db.exec(SQLITE_CONNECTION_PRAGMAS);
    this.#db.exec(SQLITE_SCHEMA);
    // No inherited flags: the worker needs none, and some (`--input-type`, `-e`) break it.
    this.#worker = new Worker(WRITE_WORKER_URL, { workerData: { path: this.path }, execArgv: [] });
    // Referenced only while a write is outstanding: an idle store never keeps a process alive.
    this.#worker.unref();
    this.#worker.on("message", (reply: WriteReply) => this.#settle(reply));
    this.#worker.on("error", (error) => this.#fail(error));
    this.#worker.on("exit", (code) => {
      if (!this.#closed) this.#fail(new Error(`the SQLite write worker exited with code ${code}`));
    });
  }

  write(batch: readonly StoreWrite[]): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextWriteId++;
    if (this.#waiters.size === 0) this.#worker.ref();
    const waiter = { writes: batch.length } as WriteWaiter;
    waiter.promise = new Promise<void>((resolve, reject) => {
      waiter.resolve = resolve;
      waiter.reject = reject;
    });
    this.#waiters.set(id, waiter);
    this.#worker.postMessage({ kind: "write", id, batch } satisfies WriteRequest);
    return waiter.promise;
  }

  async getMessage(channelId: string, messageId: number): Promise<MessageDetail | undefined> {
    this.#assertOpen();
    const message = this.#statement(
      "SELECT received_at FROM messages WHERE channel_id = ? AND message_id = ?",
    ).get(channelId, messageId) as Row | undefined;
    if (message === undefined) return undefined;
    const connectors = (
      this.#statement(
        "SELECT * FROM connector_messages WHERE channel_id = ? AND message_id = ? ORDER BY rowid",
      ).all(channelId, messageId) as Row[]
    ).map(toRecord);
    const contents = this.#statement(
      "SELECT connector_id, kind, content FROM contents WHERE channel_id = ? AND message_id = ?",
    ).all(channelId, messageId) as Row[];
    return {
      channelId,
      messageId,
      receivedAt: Number(message.received_at),
      metadata: this.#metadata(channelId, messageId),
      connectors: connectors.map((record) => ({
        ...record,
        content: Object.fromEntries(
          contents
            .filter((row) => row.connector_id === record.connectorId)
            .map((row) => [row.kind as ContentKind, String(row.content)]),
        ),
      })),
    };
  }

  async getContent(
    ref: { channelId: string; messageId: number; connectorId: string },
    kind: ContentKind,
  ): Promise<string | undefined> {
    this.#assertOpen();
    const row = this.#statement(
      "SELECT content FROM contents WHERE channel_id = ? AND message_id = ? AND connector_id = ? AND kind = ?",
    ).get(ref.channelId, ref.messageId, ref.connectorId, kind) as Row | undefined;
    return row === undefined ? undefined : String(row.content);
  }

  async search(query: MessageQuery): Promise<MessageSummary[]> {
    this.#assertOpen();
    const where: string[] = ["m.channel_id = ?"];
    const params: SQLInputValue[] = [query.channelId];
    if (query.beforeMessageId !== undefined) {
      where.push("m.message_id < ?");
      params.push(query.beforeMessageId);
    }
    if (query.receivedFrom !== undefined) {
      where.push("m.received_at >= ?");
      params.push(query.receivedFrom);
    }
    if (query.receivedTo !== undefined) {
      where.push("m.received_at <= ?");
      params.push(query.receivedTo);
    }
    if (query.statuses !== undefined) {
      where.push(
        `EXISTS (SELECT 1 FROM connector_messages c WHERE c.channel_id = m.channel_id
           AND c.message_id = m.message_id AND c.status IN (${query.statuses.map(() => "?").join(", ")}))`,
      );
      params.push(...query.statuses);
    }
    for (const [name, value] of Object.entries(query.metadata ?? {})) {
      where.push(
        `EXISTS (SELECT 1 FROM metadata_values v WHERE v.channel_id = m.channel_id
           AND v.message_id = m.message_id AND v.name = ? AND v.value = ?)`,
      );
      params.push(name, value);
    }
    const limit = clampSearchLimit(query.limit);
    let sql = `SELECT m.message_id, m.received_at FROM messages m WHERE ${where.join(" AND ")}
               ORDER BY m.message_id DESC LIMIT ?`;
    if (query.text !== undefined) {
      // Only the newest `textScanLimit` candidates are scanned: text is bounded, not indexed.
      sql = `SELECT s.message_id, s.received_at FROM (
               SELECT m.message_id, m.received_at, m.channel_id FROM messages m WHERE ${where.join(" AND ")}
               ORDER BY m.message_id DESC LIMIT ?) s
             WHERE EXISTS (SELECT 1 FROM contents t WHERE t.channel_id = s.channel_id
               AND t.message_id = s.message_id AND t.connector_id = ? AND t.kind = 'raw'
               AND instr(t.content, ?) > 0)
             ORDER BY s.message_id DESC LIMIT ?`;
      params.push(query.textScanLimit ?? DEFAULT_TEXT_SCAN_LIMIT, SOURCE_CONNECTOR_ID, query.text);
    }
    params.push(limit);
    const rows = this.#statement(sql).all(...params) as Row[];
    return rows.map((row) => {
      const messageId = Number(row.message_id);
      const statuses = this.#statement(
        "SELECT connector_id, status FROM connector_messages WHERE channel_id = ? AND message_id = ? ORDER BY rowid",
      ).all(query.channelId, messageId) as Row[];
      return {
        channelId: query.channelId,
        messageId,
        receivedAt: Number(row.received_at),
        statuses: Object.fromEntries(
          statuses.map((s) => [String(s.connector_id), s.status as MessageStatus]),
        ),
        metadata: this.#metadata(query.channelId, messageId),
      };
    });
  }

  async listUnfinished(channelId: string): Promise<UnfinishedWork> {
    this.#assertOpen();
    const received = this.#statement(
      `SELECT message_id FROM connector_messages
       WHERE channel_id = ? AND status = 'RECEIVED' AND connector_id = ? ORDER BY message_id`,
    ).all(channelId, SOURCE_CONNECTOR_ID) as Row[];
    const queued = this.#statement(
      `SELECT * FROM connector_messages
       WHERE channel_id = ? AND status IN ('QUEUED', 'PENDING') AND dead_letter = 0 AND connector_id <> ?
       ORDER BY message_id, rowid`,
    ).all(channelId, SOURCE_CONNECTOR_ID) as Row[];
    return {
      received: received.map((row) => Number(row.message_id)),
      queued: queued.map(toRecord),
    };
  }

  async listQueued(
    ref: { channelId: string; connectorId: string },
    page: { afterMessageId: number; limit: number },
  ): Promise<ConnectorMessageRecord[]> {
    this.#assertOpen();
    const rows = this.#statement(
      `SELECT * FROM connector_messages
       WHERE channel_id = ? AND status IN ('QUEUED', 'PENDING') AND message_id > ? AND connector_id = ?
         AND dead_letter = 0
       ORDER BY message_id LIMIT ?`,
    ).all(ref.channelId, page.afterMessageId, ref.connectorId, page.limit) as Row[];
    return rows.map(toRecord);
  }

  async listDeadLetters(
    channelId: string,
    options: { limit?: number } = {},
  ): Promise<ConnectorMessageRecord[]> {
    this.#assertOpen();
    const rows = this.#statement(
      "SELECT * FROM connector_messages WHERE channel_id = ? AND dead_letter = 1 ORDER BY message_id LIMIT ?",
    ).all(channelId, clampSearchLimit(options.limit)) as Row[];
    return rows.map(toRecord);
  }

  async maxMessageId(channelId: string): Promise<number> {
    this.#assertOpen();
    const row = this.#statement(
      "SELECT MAX(message_id) AS max FROM messages WHERE channel_id = ?",
    ).get(channelId) as Row;
    return row.max === null ? 0 : Number(row.max);
  }

  async getStatistics(channelId: string): Promise<Record<string, StatisticsCounts>> {
    this.#assertOpen();
    const rows = this.#statement("SELECT * FROM statistics WHERE channel_id = ?").all(
      channelId,
    ) as Row[];
    return Object.fromEntries(
      rows.map((row) => [
        String(row.connector_id),
        {
          received: Number(row.received),
          filtered: Number(row.filtered),
          queued: Number(row.queued),
          sent: Number(row.sent),
          errored: Number(row.errored),
        },
      ]),
    );
  }

  async removeMessages(channelId: string, messageIds: readonly number[]): Promise<number> {
    this.#assertOpen();
    let removed = 0;
    this.#transaction(() => {
      const remove = this.#statement(
        "DELETE FROM messages WHERE channel_id = ? AND message_id = ?",
      );
      for (const id of messageIds) removed += Number(remove.run(channelId, id).changes);
    });
    return removed;
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    this.#assertOpen();
    const batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH_SIZE;
    const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
    // Unfinished messages are never pruned: deleting them would break at-least-once.
    const select = this.#statement(
      `SELECT m.message_id FROM messages m WHERE m.channel_id = ? AND m.received_at < ?
         AND NOT EXISTS (SELECT 1 FROM connector_messages c WHERE c.channel_id = m.channel_id
           AND c.message_id = m.message_id AND c.status IN ('RECEIVED', 'QUEUED', 'PENDING'))
       ORDER BY m.message_id LIMIT ?`,
    );
    const remove = this.#statement("DELETE FROM messages WHERE channel_id = ? AND message_id = ?");
    let deleted = 0;
    let batches = 0;
    let complete = false;
    while (batches < maxBatches) {
      const ids = (select.all(options.channelId, options.receivedBefore, batchSize) as Row[]).map(
        (row) => Number(row.message_id),
      );
      if (ids.length === 0) {
        complete = true;
        break;
      }
      this.#transaction(() => {
        for (const id of ids) remove.run(options.channelId, id);
      });
      // Give the freed pages back to the file system after each batch, in the same small steps.
      this.#db.exec("PRAGMA incremental_vacuum");
      deleted += ids.length;
      batches++;
      if (ids.length < batchSize) {
        complete = true;
        break;
      }
    }
    return { deleted, batches, complete };
  }

  metrics(): StoreMetrics {
    return { ...this.#metrics };
  }

  /** Pages and free pages of the database file, to prove that pruning gives space back. */
  pageCounts(): { pages: number; freePages: number } {
    const pages = this.#db.prepare("PRAGMA page_count").get() as Row;
    const free = this.#db.prepare("PRAGMA freelist_count").get() as Row;
    return { pages: Number(pages.page_count), freePages: Number(free.freelist_count) };
  }

  /** Moves the WAL into the main file and truncates it, e.g. before measuring the file size. */
  checkpoint(): void {
    this.#db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /** Waits for the writes already posted, then stops the worker and closes both connections. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#waiters.values()].map((waiter) => waiter.promise));
    if (this.#failure === undefined) {
      const exited = new Promise((resolve) => this.#worker.once("exit", resolve));
      this.#worker.ref();
      this.#worker.postMessage({ kind: "close" } satisfies WriteRequest);
      await exited;
    }
    this.#db.close();
  }

  #settle(reply: WriteReply): void {
    const waiter = this.#waiters.get(reply.id);
    if (waiter === undefined) return;
    this.#waiters.delete(reply.id);
    if (this.#waiters.size === 0) this.#worker.unref();
    if (!reply.ok) {
      waiter.reject(writeFailed(new Error(reply.error), waiter.writes));
      return;
    }
    this.#metrics = {
      commits: this.#metrics.commits + 1,
      writes: this.#metrics.writes + waiter.writes,
    };
    waiter.resolve();
  }

  #fail(cause: unknown): void {
    this.#failure ??= writeFailed(cause, 0);
    for (const waiter of this.#waiters.values()) waiter.reject(writeFailed(cause, waiter.writes));
    this.#waiters.clear();
  }

  #assertOpen(): void {
    if (this.#closed) throw closedError();
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #transaction(body: () => void): void {
    try {
      inTransaction(this.#db, body);
    } catch (error) {
      throw writeFailed(error, 0);
    }
  }

  #metadata(channelId: string, messageId: number): Record<string, string> {
    const rows = this.#statement(
      "SELECT name, value FROM metadata_values WHERE channel_id = ? AND message_id = ?",
    ).all(channelId, messageId) as Row[];
    return Object.fromEntries(rows.map((row) => [String(row.name), String(row.value)]));
  }
}

function toRecord(row: Row): ConnectorMessageRecord {
  const record: ConnectorMessageRecord = {
    channelId: String(row.channel_id),
    messageId: Number(row.message_id),
    connectorId: String(row.connector_id),
    status: row.status as MessageStatus,
    sendAttempts: Number(row.send_attempts),
    deadLetter: Number(row.dead_letter) === 1,
    updatedAt: Number(row.updated_at),
  };
  if (typeof row.lane_key === "string") record.laneKey = row.lane_key;
  if (typeof row.error === "string") record.error = row.error;
  return record;
}
