/**
 * The statuses of ARCHITECTURE.md §3. A message has one connector message for its source
 * (connector id "source") and one per destination, each with its own status.
 */
export const MESSAGE_STATUSES = [
  "RECEIVED",
  "FILTERED",
  "TRANSFORMED",
  "QUEUED",
  "SENT",
  "ERROR",
  "PENDING",
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Statuses that mean work is left to do; recovery picks them up and pruning skips them. */
export const UNFINISHED_STATUSES: readonly MessageStatus[] = ["RECEIVED", "QUEUED", "PENDING"];

export const CONTENT_KINDS = [
  "raw",
  "processedRaw",
  "transformed",
  "encoded",
  "sent",
  "response",
  "processedResponse",
  "sourceMap",
  "maps",
  "error",
] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

/** The connector id of a message's source connector message; destinations use their own id. */
export const SOURCE_CONNECTOR_ID = "source";

export interface StatisticsCounts {
  received: number;
  filtered: number;
  /** A gauge: messages sitting in the queue now. */
  queued: number;
  sent: number;
  errored: number;
}

export const EMPTY_STATISTICS: Readonly<StatisticsCounts> = Object.freeze({
  received: 0,
  filtered: 0,
  queued: 0,
  sent: 0,
  errored: 0,
});

/** One change inside a transaction. A batch of them is committed atomically by `write`. */
export type StoreWrite =
  | { op: "insertMessage"; channelId: string; messageId: number; receivedAt: number }
  | {
      op: "setStatus";
      channelId: string;
      messageId: number;
      connectorId: string;
      status: MessageStatus;
      sendAttempts?: number;
      deadLetter?: boolean;
      laneKey?: string;
      /** An operator-readable reason; never message content. */
      error?: string;
      updatedAt: number;
    }
  | {
      op: "putContent";
      channelId: string;
      messageId: number;
      connectorId: string;
      kind: ContentKind;
      content: string;
    }
  | {
      op: "deleteContent";
      channelId: string;
      messageId: number;
      connectorId: string;
      kind: ContentKind;
    }
  | { op: "putMetadata"; channelId: string; messageId: number; values: Record<string, string> }
  | {
      op: "addStatistics";
      channelId: string;
      connectorId: string;
      delta: Partial<StatisticsCounts>;
    }
  | { op: "deleteMessage"; channelId: string; messageId: number };

export interface ConnectorMessageRecord {
  channelId: string;
  messageId: number;
  connectorId: string;
  status: MessageStatus;
  sendAttempts: number;
  deadLetter: boolean;
  laneKey?: string;
  error?: string;
  updatedAt: number;
}

export interface MessageDetail {
  channelId: string;
  messageId: number;
  receivedAt: number;
  metadata: Record<string, string>;
  connectors: (ConnectorMessageRecord & { content: Partial<Record<ContentKind, string>> })[];
}

export interface MessageSummary {
  channelId: string;
  messageId: number;
  receivedAt: number;
  statuses: Record<string, MessageStatus>;
  metadata: Record<string, string>;
}

export interface MessageQuery {
  channelId: string;
  /** A message matches when any of its connector messages has one of these statuses. */
  statuses?: readonly MessageStatus[];
  /** Inclusive bounds on the receive time, epoch milliseconds. */
  receivedFrom?: number;
  receivedTo?: number;
  /** Exact matches on custom metadata columns; all must match. */
  metadata?: Record<string, string>;
  /**
   * Substring of the raw content. Text is not indexed, so only the `textScanLimit` newest
   * messages that pass the other filters are scanned: the cost is bounded, not the corpus.
   */
  text?: string;
  textScanLimit?: number;
  /** Newest first; continue a page with `beforeMessageId` = the last id seen. */
  beforeMessageId?: number;
  limit?: number;
}

export const DEFAULT_SEARCH_LIMIT = 100;
export const MAX_SEARCH_LIMIT = 1_000;
export const DEFAULT_TEXT_SCAN_LIMIT = 10_000;

export interface UnfinishedWork {
  /** Messages whose source connector message is still RECEIVED, oldest first. */
  received: number[];
  /** Destination connector messages QUEUED or PENDING (dead letters excluded), oldest first. */
  queued: ConnectorMessageRecord[];
}

export interface PruneOptions {
  channelId: string;
  /** Messages received before this epoch-millisecond instant are removed. */
  receivedBefore: number;
  /** Messages per transaction, so a large prune never holds the writer for long. */
  batchSize?: number;
  /** Stop after this many batches; call again to continue. */
  maxBatches?: number;
}

export interface PruneResult {
  deleted: number;
  batches: number;
  /** True when no more messages match; false when `maxBatches` stopped it early. */
  complete: boolean;
}

export interface StoreMetrics {
  /** Transactions committed by `write`: with group commit, far fewer than messages. */
  commits: number;
  writes: number;
}

/**
 * Where every message, status and statistic lives. Implementations: SqliteStore (default,
 * durable), MemoryStore (tests, benches). Each passes the one contract suite.
 * `write` is the only mutation path of the pipeline: one call = one transaction = (for a
 * durable store) one fsync, and it resolves only once the batch is durable.
 */
export interface MessageStore {
  write(batch: readonly StoreWrite[]): Promise<void>;
  getMessage(channelId: string, messageId: number): Promise<MessageDetail | undefined>;
  getContent(
    ref: { channelId: string; messageId: number; connectorId: string },
    kind: ContentKind,
  ): Promise<string | undefined>;
  search(query: MessageQuery): Promise<MessageSummary[]>;
  listUnfinished(channelId: string): Promise<UnfinishedWork>;
  /** One destination's QUEUED/PENDING messages after `afterMessageId`, oldest first: pages a long queue. */
  listQueued(
    ref: { channelId: string; connectorId: string },
    page: { afterMessageId: number; limit: number },
  ): Promise<ConnectorMessageRecord[]>;
  listDeadLetters(
    channelId: string,
    options?: { limit?: number },
  ): Promise<ConnectorMessageRecord[]>;
  maxMessageId(channelId: string): Promise<number>;
  getStatistics(channelId: string): Promise<Record<string, StatisticsCounts>>;
  removeMessages(channelId: string, messageIds: readonly number[]): Promise<number>;
  prune(options: PruneOptions): Promise<PruneResult>;
  metrics(): StoreMetrics;
  close(): Promise<void>;
}

export const DEFAULT_PRUNE_BATCH_SIZE = 1_000;

/** Merges the statistics deltas of a batch so each counter row is written once. */
export function mergeStatistics(
  batch: readonly StoreWrite[],
): Map<string, { channelId: string; connectorId: string; delta: StatisticsCounts }> {
  const merged = new Map<
    string,
    { channelId: string; connectorId: string; delta: StatisticsCounts }
  >();
  for (const write of batch) {
    if (write.op !== "addStatistics") continue;
    const key = `${write.channelId}\u0000${write.connectorId}`;
    let entry = merged.get(key);
    if (entry === undefined) {
      entry = {
        channelId: write.channelId,
        connectorId: write.connectorId,
        delta: { ...EMPTY_STATISTICS },
      };
      merged.set(key, entry);
    }
    for (const field of Object.keys(write.delta) as (keyof StatisticsCounts)[]) {
      entry.delta[field] += write.delta[field] ?? 0;
    }
  }
  return merged;
}

export function clampSearchLimit(limit: number | undefined): number {
  return Math.max(1, Math.min(limit ?? DEFAULT_SEARCH_LIMIT, MAX_SEARCH_LIMIT));
}
