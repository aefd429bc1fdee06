/* eslint-disable @typescript-eslint/require-await -- MessageStore is async for stores that do I/O
   (PostgreSQL); this one works synchronously, and async turns its throws into rejections. */
import { NodeMirthError } from "./errors.js";
import {
  clampSearchLimit,
  DEFAULT_PRUNE_BATCH_SIZE,
  DEFAULT_TEXT_SCAN_LIMIT,
  EMPTY_STATISTICS,
  mergeStatistics,
  SOURCE_CONNECTOR_ID,
  UNFINISHED_STATUSES,
  type ConnectorMessageRecord,
  type ContentKind,
  type MessageDetail,
  type MessageQuery,
  type MessageStore,
  type MessageSummary,
  type PruneOptions,
  type PruneResult,
  type StatisticsCounts,
  type StoreMetrics,
  type StoreWrite,
  type UnfinishedWork,
} from "./message-store.js";

interface StoredMessage {
  messageId: number;
  receivedAt: number;
  metadata: Map<string, string>;
  connectors: Map<string, ConnectorMessageRecord>;
  /** By connector id; content may be written in the batch that creates the connector message. */
  content: Map<string, Map<ContentKind, string>>;
}

/**
 * A MessageStore in process memory: nothing survives the process. For unit tests and as
 * the non-durable baseline of the bench; never for production.
 */
export class MemoryStore implements MessageStore {
  readonly #channels = new Map<string, Map<number, StoredMessage>>();
  readonly #statistics = new Map<string, Map<string, StatisticsCounts>>();
  #metrics: StoreMetrics = { commits: 0, writes: 0 };
  #closed = false;

  async write(batch: readonly StoreWrite[]): Promise<void> {
    this.#assertOpen();
    // Every reference is checked before anything changes, so a failing batch is all or nothing.
    this.#check(batch);
    for (const write of batch) this.#apply(write);
    for (const { channelId, connectorId, delta } of mergeStatistics(batch).values()) {
      const counts = this.#statsFor(channelId, connectorId);
      for (const field of Object.keys(delta) as (keyof StatisticsCounts)[])
        counts[field] += delta[field];
    }
    this.#metrics = {
      commits: this.#metrics.commits + 1,
      writes: this.#metrics.writes + batch.length,
    };
  }

  async getMessage(channelId: string, messageId: number): Promise<MessageDetail | undefined> {
    this.#assertOpen();
    const message = this.#channels.get(channelId)?.get(messageId);
    if (message === undefined) return undefined;
    return {
      channelId,
      messageId,
      receivedAt: message.receivedAt,
      metadata: Object.fromEntries(message.metadata),
      connectors: [...message.connectors.values()].map((record) => ({
        ...record,
        content: Object.fromEntries(message.content.get(record.connectorId) ?? []),
      })),
    };
  }

  async getContent(
    ref: { channelId: string; messageId: number; connectorId: string },
    kind: ContentKind,
  ): Promise<string | undefined> {
    this.#assertOpen();
    const message = this.#channels.get(ref.channelId)?.get(ref.messageId);
    return message?.content.get(ref.connectorId)?.get(kind);
  }

  async search(query: MessageQuery): Promise<MessageSummary[]> {
    this.#assertOpen();
    const messages = [...(this.#channels.get(query.channelId)?.values() ?? [])].sort(
      (a, b) => b.messageId - a.messageId,
    );
    const limit = clampSearchLimit(query.limit);
    let scanned = 0;
    const found: MessageSummary[] = [];
    for (const message of messages) {
      if (found.length >= limit) break;
      if (!matchesIndexed(message, query)) continue;
      if (query.text !== undefined) {
        if (scanned >= (query.textScanLimit ?? DEFAULT_TEXT_SCAN_LIMIT)) break;
        scanned++;
        const raw = message.content.get(SOURCE_CONNECTOR_ID)?.get("raw");
        if (raw === undefined || !raw.includes(query.text)) continue;
      }
      found.push(summarize(query.channelId, message));
    }
    return found;
  }

  async listUnfinished(channelId: string): Promise<UnfinishedWork> {
    this.#assertOpen();
    const messages = [...(this.#channels.get(channelId)?.values() ?? [])].sort(
      (a, b) => a.messageId - b.messageId,
    );
    const work: UnfinishedWork = { received: [], queued: [] };
    for (const message of messages) {
      for (const record of message.connectors.values()) {
        if (record.connectorId === SOURCE_CONNECTOR_ID) {
          if (record.status === "RECEIVED") work.received.push(message.messageId);
        } else if (
          (record.status === "QUEUED" || record.status === "PENDING") &&
          !record.deadLetter
        ) {
          work.queued.push({ ...record });
        }
      }
    }
    return work;
  }

  async listQueued(
    ref: { channelId: string; connectorId: string },
    page: { afterMessageId: number; limit: number },
  ): Promise<ConnectorMessageRecord[]> {
    this.#assertOpen();
    const found: ConnectorMessageRecord[] = [];
    const messages = [...(this.#channels.get(ref.channelId)?.values() ?? [])]
      .filter((message) => message.messageId > page.afterMessageId)
      .sort((a, b) => a.messageId - b.messageId);
    for (const message of messages) {
      if (found.length >= page.limit) break;
      const record = message.connectors.get(ref.connectorId);
      if (
        record !== undefined &&
        !record.deadLetter &&
        (record.status === "QUEUED" || record.status === "PENDING")
      ) {
        found.push({ ...record });
      }
    }
    return found;
  }

  async listDeadLetters(
    channelId: string,
    options: { limit?: number } = {},
  ): Promise<ConnectorMessageRecord[]> {
    this.#assertOpen();
    const records = [...(this.#channels.get(channelId)?.values() ?? [])]
      .sort((a, b) => a.messageId - b.messageId)
      .flatMap((message) => [...message.connectors.values()])
      .filter((record) => record.deadLetter)
      .slice(0, clampSearchLimit(options.limit));
    return records.map((record) => ({ ...record }));
  }

  async maxMessageId(channelId: string): Promise<number> {
    this.#assertOpen();
    let max = 0;
    for (const id of this.#channels.get(channelId)?.keys() ?? []) max = Math.max(max, id);
    return max;
  }

  async getStatistics(channelId: string): Promise<Record<string, StatisticsCounts>> {
    this.#assertOpen();
    const byConnector = this.#statistics.get(channelId) ?? new Map<string, StatisticsCounts>();
    return Object.fromEntries(
      [...byConnector].map(([connectorId, counts]) => [connectorId, { ...counts }]),
    );
  }

  async removeMessages(channelId: string, messageIds: readonly number[]): Promise<number> {
    this.#assertOpen();
    const messages = this.#channels.get(channelId);
    let removed = 0;
    for (const id of messages === undefined ? [] : messageIds)
      if (messages?.delete(id) === true) removed++;
    return removed;
  }

  async prune(options: PruneOptions): Promise<PruneResult> {
    this.#assertOpen();
    const batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH_SIZE;
    const messages = this.#channels.get(options.channelId);
    const candidates = [...(messages?.values() ?? [])]
      .filter((message) => message.receivedAt < options.receivedBefore && !isUnfinished(message))
      .sort((a, b) => a.messageId - b.messageId);
    const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
    let deleted = 0;
    let batches = 0;
    while (deleted < candidates.length && batches < maxBatches) {
      for (const message of candidates.slice(deleted, deleted + batchSize))
        messages?.delete(message.messageId);
      deleted = Math.min(candidates.length, deleted + batchSize);
      batches++;
    }
    return { deleted, batches, complete: deleted === candidates.length };
  }

  metrics(): StoreMetrics {
    return { ...this.#metrics };
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new NodeMirthError("ERR_STORE_CLOSED", "The message store is closed.");
  }

  /** The constraints SQLite enforces: ids are unique and rows of a message need the message. */
  #check(batch: readonly StoreWrite[]): void {
    const existsInBatch = new Map<string, boolean>();
    const exists = (channelId: string, messageId: number) =>
      existsInBatch.get(`${channelId}\u0000${messageId}`) ??
      this.#channels.get(channelId)?.has(messageId) === true;
    for (const write of batch) {
      if (write.op === "addStatistics") continue;
      const key = `${write.channelId}\u0000${write.messageId}`;
      if (write.op === "deleteMessage") existsInBatch.set(key, false);
      else if (write.op === "insertMessage") {
        if (exists(write.channelId, write.messageId))
          throw rejected(write, "A message with this id already exists.");
        existsInBatch.set(key, true);
      } else if (!exists(write.channelId, write.messageId)) {
        throw rejected(write, "A store write referenced a message that does not exist.");
      }
    }
  }

  #apply(write: StoreWrite): void {
    switch (write.op) {
      case "insertMessage": {
        let messages = this.#channels.get(write.channelId);
        if (messages === undefined) {
          messages = new Map();
          this.#channels.set(write.channelId, messages);
        }
        messages.set(write.messageId, {
          messageId: write.messageId,
          receivedAt: write.receivedAt,
          metadata: new Map(),
          connectors: new Map(),
          content: new Map(),
        });
        return;
      }
      case "setStatus": {
        const message = this.#message(write.channelId, write.messageId);
        const previous = message.connectors.get(write.connectorId);
        const record: ConnectorMessageRecord = {
          channelId: write.channelId,
          messageId: write.messageId,
          connectorId: write.connectorId,
          status: write.status,
          sendAttempts: write.sendAttempts ?? previous?.sendAttempts ?? 0,
          deadLetter: write.deadLetter ?? previous?.deadLetter ?? false,
          updatedAt: write.updatedAt,
        };
        const laneKey = write.laneKey ?? previous?.laneKey;
        if (laneKey !== undefined) record.laneKey = laneKey;
        if (write.error !== undefined) record.error = write.error;
        message.connectors.set(write.connectorId, record);
        return;
      }
      case "putContent": {
        this.#content(write).set(write.kind, write.content);
        return;
      }
      case "deleteContent": {
        this.#content(write).delete(write.kind);
        return;
      }
      case "putMetadata": {
        const message = this.#message(write.channelId, write.messageId);
        for (const [name, value] of Object.entries(write.values)) message.metadata.set(name, value);
        return;
      }
      case "addStatistics":
        // Merged and applied once per batch by `write`.
        return;
      case "deleteMessage": {
        this.#channels.get(write.channelId)?.delete(write.messageId);
        return;
      }
    }
  }

  #message(channelId: string, messageId: number): StoredMessage {
    const message = this.#channels.get(channelId)?.get(messageId);
    if (message === undefined) throw new Error("unreachable: checked before apply");
    return message;
  }

  #content(write: {
    channelId: string;
    messageId: number;
    connectorId: string;
  }): Map<ContentKind, string> {
    const message = this.#message(write.channelId, write.messageId);
    let content = message.content.get(write.connectorId);
    if (content === undefined) {
      content = new Map();
      message.content.set(write.connectorId, content);
    }
    return content;
  }

  #statsFor(channelId: string, connectorId: string): StatisticsCounts {
    let byConnector = this.#statistics.get(channelId);
    if (byConnector === undefined) {
      byConnector = new Map();
      this.#statistics.set(channelId, byConnector);
    }
    let counts = byConnector.get(connectorId);
    if (counts === undefined) {
      counts = { ...EMPTY_STATISTICS };
      byConnector.set(connectorId, counts);
    }
    return counts;
  }
}

function rejected(
  write: Exclude<StoreWrite, { op: "addStatistics" }>,
  reason: string,
): NodeMirthError {
  return new NodeMirthError(
    "ERR_STORE_WRITE_FAILED",
    `A message store transaction was rejected: ${reason}`,
    {
      details: { channelId: write.channelId, messageId: write.messageId, op: write.op },
    },
  );
}

function isUnfinished(message: StoredMessage): boolean {
  for (const record of message.connectors.values()) {
    if (UNFINISHED_STATUSES.includes(record.status)) return true;
  }
  return false;
}

function matchesIndexed(message: StoredMessage, query: MessageQuery): boolean {
  if (query.beforeMessageId !== undefined && message.messageId >= query.beforeMessageId)
    return false;
  if (query.receivedFrom !== undefined && message.receivedAt < query.receivedFrom) return false;
  if (query.receivedTo !== undefined && message.receivedAt > query.receivedTo) return false;
  if (query.statuses !== undefined) {
    const statuses = query.statuses;
    if (![...message.connectors.values()].some((record) => statuses.includes(record.status)))
      return false;
  }
  for (const [name, value] of Object.entries(query.metadata ?? {})) {
    if (message.metadata.get(name) !== value) return false;
  }
  return true;
}

function summarize(channelId: string, message: StoredMessage): MessageSummary {
  return {
    channelId,
    messageId: message.messageId,
    receivedAt: message.receivedAt,
    statuses: Object.fromEntries(
      [...message.connectors].map(([id, record]) => [id, record.status]),
    ),
    metadata: Object.fromEntries(message.metadata),
  };
}
