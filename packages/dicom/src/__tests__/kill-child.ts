/**
 * The engine process of the kill -9 test: an SQLite-backed channel with a `dicom` source on
 * `sourcePort` and a `dicom` destination to `downstreamPort` (queue always, retried until
 * delivered). Prints `ready` once listening; on SIGTERM delivers what is left and exits 0.
 * Usage: node --import <TS_SOURCE_HOOK from @node-mirth/test-peers> kill-child.ts <dataDir> <sourcePort> <downstreamPort>
 */
import { join } from "node:path";
import { createEngine, SqliteStore } from "@node-mirth/core";
import { dicom } from "../dicom-connector.js";

const [dataDir, sourcePort, downstreamPort] = process.argv.slice(2);
if (dataDir === undefined || sourcePort === undefined || downstreamPort === undefined) {
  throw new Error("usage: kill-child <dataDir> <sourcePort> <downstreamPort>");
}

const store = new SqliteStore({ dataDir });
const engine = createEngine({ store, plugins: [dicom()] });
await engine.deploy({
  id: "kill9",
  name: "kill -9",
  dataType: "JSON",
  // Small instances inline in the message, larger ones as spooled files: both must survive.
  source: { type: "dicom", properties: { port: Number(sourcePort), aeTitle: "NMIRTH", spoolDirectory: join(dataDir, "spool"), inlineMaxBytes: 500 } },
  destinations: [
    {
      id: "out",
      name: "PACS",
      connector: { type: "dicom", properties: { host: "127.0.0.1", port: Number(downstreamPort), calledAeTitle: "PACS", responseTimeoutMs: 5_000 } },
      queue: { mode: "always", retryCount: 100_000, retryIntervalMs: 20 },
    },
  ],
});
process.stdout.write("ready\n");

process.once("SIGTERM", () => {
  void engine
    .idle("kill9")
    .then(() => engine.close())
    .then(() => store.close())
    .then(() => {
      process.stdout.write("done\n");
      process.exit(0);
    });
});
