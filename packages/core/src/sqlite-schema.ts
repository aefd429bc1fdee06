/*
 * Imports nothing and is imported with its .ts name by the write worker, which Node runs
 * from source with type stripping in tests and from dist/ when built.
 */

/** Per-connection settings: every connection (the reader and the write worker) sets them. */
export const SQLITE_CONNECTION_PRAGMAS =
  "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;";

// auto_vacuum must be chosen before the first table exists; INCREMENTAL lets prune give
// pages back to the file system in small steps instead of one long VACUUM.
export const SQLITE_SCHEMA = `
PRAGMA auto_vacuum = INCREMENTAL;
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS messages (
  channel_id TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (channel_id, message_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS messages_received ON messages (channel_id, received_at);
-- A rowid table, so connectors list in the order they were first written (source first).
CREATE TABLE IF NOT EXISTS connector_messages (
  channel_id TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  connector_id TEXT NOT NULL,
  status TEXT NOT NULL,
  send_attempts INTEGER NOT NULL DEFAULT 0,
  dead_letter INTEGER NOT NULL DEFAULT 0,
  lane_key TEXT,
  error TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel_id, message_id, connector_id),
  FOREIGN KEY (channel_id, message_id) REFERENCES messages (channel_id, message_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS connector_messages_status ON connector_messages (channel_id, status, message_id);
CREATE INDEX IF NOT EXISTS connector_messages_dead ON connector_messages (channel_id, dead_letter, message_id);
CREATE TABLE IF NOT EXISTS contents (
  channel_id TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  connector_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  content TEXT NOT NULL,
  FOREIGN KEY (channel_id, message_id) REFERENCES messages (channel_id, message_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX IF NOT EXISTS contents_key ON contents (channel_id, message_id, connector_id, kind);
CREATE TABLE IF NOT EXISTS metadata_values (
  channel_id TEXT NOT NULL,
  message_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (channel_id, message_id, name),
  FOREIGN KEY (channel_id, message_id) REFERENCES messages (channel_id, message_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metadata_lookup ON metadata_values (channel_id, name, value, message_id);
CREATE TABLE IF NOT EXISTS statistics (
  channel_id TEXT NOT NULL,
  connector_id TEXT NOT NULL,
  received INTEGER NOT NULL DEFAULT 0,
  filtered INTEGER NOT NULL DEFAULT 0,
  queued INTEGER NOT NULL DEFAULT 0,
  sent INTEGER NOT NULL DEFAULT 0,
  errored INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (channel_id, connector_id)
) WITHOUT ROWID;
`;

