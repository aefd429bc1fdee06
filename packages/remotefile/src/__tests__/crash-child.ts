/**
 * The process the kill -9 test kills: an SQLite-backed engine channel fed by a FileReader over
 * the local file system. It freezes at a chosen point and says so on stdout, so the test can
 * kill it exactly there:
 *   ack        - every message committed and the ledger synced; the move never completes ("acking")
 *   dispatch:N - N messages committed; the next dispatch never resolves ("dispatched")
 * Usage: node --import <TS_SOURCE_HOOK> crash-child.ts <dataDir> <inbox> <ledgerPath> <mode>
 */
import { createEngine, SqliteStore, type DispatchResult } from "@node-mirth/core";
import { createFileNameMatcher } from "../file-filter.js";
import { FileReader } from "../file-reader.js";
import type { FileSystemClient } from "../file-system-client.js";
import { LocalFileClient } from "../local-file-client.js";
import { CRASH_CHANNEL } from "./crash-channel.js";

const [dataDir, inbox, ledgerPath, mode] = process.argv.slice(2);
if (dataDir === undefined || inbox === undefined || ledgerPath === undefined || mode === undefined) {
  throw new Error("usage: crash-child <dataDir> <inbox> <ledgerPath> <mode>");
}

const store = new SqliteStore({ dataDir });
const engine = createEngine({ store, plugins: [] });
await engine.deploy(CRASH_CHANNEL);

const local = new LocalFileClient();
const freezeOnAck: FileSystemClient = {
  list: (d) => local.list(d),
  stat: (p) => local.stat(p),
  createReadStream: (p) => local.createReadStream(p),
  createWriteStream: (p, o) => local.createWriteStream(p, o),
  mkdir: (p) => local.mkdir(p),
  close: () => local.close(),
  delete: () => freeze("acking"),
  rename: () => freeze("acking"),
};

function freeze<T>(say: string): Promise<T> {
  process.stdout.write(`${say}\n`);
  return new Promise<T>(() => undefined);
}

const limit = mode.startsWith("dispatch:") ? Number(mode.slice("dispatch:".length)) : Infinity;
// The reader keeps several dispatches in flight: freeze only once the first `limit` are committed.
const calls: Promise<DispatchResult>[] = [];
const reader = new FileReader({
  connect: () => Promise.resolve(mode === "ack" ? freezeOnAck : local),
  location: "file://",
  directory: inbox,
  matcher: createFileNameMatcher("*.txt", false),
  stableMs: 0,
  split: "lines",
  afterProcessing: "move",
  moveToDirectory: `${inbox}/done`,
  ledgerPath,
  dispatch: async (raw): Promise<DispatchResult> => {
    if (calls.length >= limit) {
      await Promise.all(calls);
      return freeze("dispatched");
    }
    const call = engine.dispatch(CRASH_CHANNEL.id, raw);
    calls.push(call);
    return call;
  },
});
const report = await reader.poll();
process.stdout.write(`finished ${JSON.stringify(report)}\n`);
