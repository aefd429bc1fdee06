/**
 * The engine under test, in its own process: HTTP listener -> SqliteStore (durable group
 * commit) -> response, with one HTTP destination queued ("always") to a sink, so delivery
 * runs as in production but does not gate the answer. Prints its port.
 */
import { createEngine, SqliteStore } from "@node-mirth/core";
import type * as Http from "../src/index.js";

// The built package is what is measured; its types come from the source.
const { http } = (await import("../dist/index.js")) as unknown as typeof Http;

const [dataDir, sinkPort, portText] = process.argv.slice(2);
if (dataDir === undefined || sinkPort === undefined || portText === undefined) throw new Error("usage: engine-server.ts <dataDir> <sinkPort> <port>");
const store = new SqliteStore({ dataDir });
const engine = createEngine({ store, plugins: [http()] });
const port = Number(portText);
await engine.deploy({
  id: "bench",
  name: "HTTP bench",
  dataType: "RAW",
  source: { type: "http", properties: { port, basePath: "/in" } },
  destinations: [
    {
      id: "sink",
      name: "Sink",
      connector: { type: "http", properties: { url: `http://127.0.0.1:${sinkPort}/sink`, maxSockets: 4 } },
      queue: { mode: "always", retryCount: 3, retryIntervalMs: 100 },
    },
  ],
});
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on("SIGTERM", () => {
  void engine
    .close()
    .then(() => store.close())
    .then(() => process.exit(0));
});
