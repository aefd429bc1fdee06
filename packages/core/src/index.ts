export {
  CORE_ERROR_CODES,
  NodeMirthError,
  isNodeMirthError,
  type CoreErrorCode,
  type NodeMirthErrorOptions,
} from "./errors.js";
export {
  CONTENT_KINDS,
  MESSAGE_STATUSES,
  SOURCE_CONNECTOR_ID,
  UNFINISHED_STATUSES,
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
export { MemoryStore } from "./memory-store.js";
export { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
