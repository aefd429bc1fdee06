/**
 * The server under test: the node-mirth engine with one channel, MLLP source -> SqliteStore
 * (WAL, synchronous=FULL, in a temp dir) -> a destination whose one-line JavaScript
 * transformer upper-cases PID-5.1 -> MLLP sender to the sink. ACK after the durable commit.
 */
import { join } from "node:path";
import type * as Mllp from "../src/index.js";
import { freePort, serveCommands } from "./bench-shared.ts";

const core = await import("@node-mirth/core");
const mllp = (await import("../dist/index.js")) as unknown as typeof Mllp;

let engine: ReturnType<typeof core.createEngine> | undefined;
let store: InstanceType<typeof core.SqliteStore> | undefined;

serveCommands(async (command) => {
  switch (command.kind) {
    case "start": {
      store = new core.SqliteStore({ dataDir: join(String(command.dataDir), "engine") });
      engine = core.createEngine({ store, plugins: [mllp.mllp()] });
      const port = await freePort();
      await engine.deploy({
        id: "bench",
        name: "bench",
        storage: "production",
        source: { type: "mllp", properties: { port } },
        destinations: [
          {
            id: "sink",
            name: "sink",
            connector: { type: "mllp", properties: { host: "127.0.0.1", port: Number(command.sinkPort) } },
            transformer: { steps: [{ type: "javascript", script: "msg.set('PID.5.1', msg.get('PID.5.1').toUpperCase());" }] },
            queue: { mode: String(command.queueMode) as "always" | "onFailure" | "never", retryCount: 10, retryIntervalMs: 10 },
          },
        ],
      });
      return { kind: "ready", port };
    }
    case "metrics":
      return { kind: "metrics", commits: JSON.parse(JSON.stringify(engine?.commitMetrics() ?? {})) as unknown };
    case "stop":
      await engine?.close();
      await store?.close();
      setImmediate(() => process.exit(0));
      return { kind: "stopped" };
    default:
      throw new Error(`unknown command ${command.kind}`);
  }
});
