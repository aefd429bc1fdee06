/** An MllpListener (plain or TLS) that only holds connections, for RSS per idle connection. Run with --expose-gc. */
import type * as Mllp from "../src/index.js";
import { serveCommands } from "./bench-shared.ts";

const mllp = (await import("../dist/index.js")) as unknown as typeof Mllp;
const gc = (globalThis as { gc?: () => void }).gc;

let listener: Mllp.MllpListener | undefined;

serveCommands(async (command) => {
  switch (command.kind) {
    case "start": {
      const tls = command.tls as { key: string; cert: string } | undefined;
      listener = new mllp.MllpListener({
        onMessage: () => Promise.resolve(undefined),
        maxConnections: 5_000,
        maxConnectionsPerAddress: 5_000,
        ...(tls === undefined ? {} : { tls: { enabled: true, keyStorePath: tls.key, certStorePath: tls.cert } }),
      });
      const { port } = await listener.start();
      return { kind: "ready", port };
    }
    case "settle":
      // Two collections with a turn between them, so the figure is live memory, not garbage.
      gc?.();
      await new Promise((resolve) => setTimeout(resolve, 200));
      gc?.();
      return { kind: "settled", heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20 };
    default:
      throw new Error(`unknown command ${command.kind}`);
  }
});
