/*
 * The SqliteStore's write thread: its own connection to the database file, applying each
 * batch the store posts and answering once the COMMIT (and its fsync) returned. WAL lets
 * the store's thread keep reading meanwhile.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import { SqliteBatchWriter } from "./sqlite-batch-writer.ts";
import { SQLITE_CONNECTION_PRAGMAS } from "./sqlite-schema.ts";
import type { WriteReply, WriteRequest } from "./sqlite-write-protocol.ts";

const port = parentPort;
if (port === null) throw new Error("sqlite-write-worker runs only as a worker thread");

const db = new DatabaseSync((workerData as { path: string }).path);
db.exec(SQLITE_CONNECTION_PRAGMAS);
const writer = new SqliteBatchWriter(db);

port.on("message", (request: WriteRequest) => {
  if (request.kind === "close") {
    db.close();
    port.close();
    return;
  }
  let reply: WriteReply;
  try {
    writer.write(request.batch);
    reply = { id: request.id, ok: true };
  } catch (error) {
    reply = { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
