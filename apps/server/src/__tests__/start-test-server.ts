import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { Writable } from "node:stream";
import { parseServerConfig } from "../config/load-server-config.js";
import type { ServerConfigInput } from "../config/server-config.js";
import { startServer, type RunningServer } from "../serve/start-server.js";

export interface TestServerOverrides {
  /** Sections of node-mirth.toml; the API binds 127.0.0.1 on port 0 unless set here. */
  config?: ServerConfigInput;
  /** Environment overrides (PORT, TLS_CERT, ...) applied like the real server does. */
  env?: NodeJS.ProcessEnv;
  allowInsecureBind?: boolean;
  /** Reuse a data directory (restart tests); default a fresh temp dir removed at close. */
  dataDir?: string;
}

export interface TestServer extends RunningServer, AsyncDisposable {
  dataDir: string;
  /** Every log line the server wrote (JSON, already redacted). */
  logLines: RunningServer["logLines"];
  logs: string[];
}

/**
 * A real node-mirth on loopback, port 0, in a temp dir: `await using server = await
 * startTestServer()`. Closing stops the server and removes the temp dir.
 */
export async function startTestServer(overrides: TestServerOverrides = {}): Promise<TestServer> {
  const input = overrides.config ?? {};
  const raw = {
    ...input,
    api: { port: 0, https_port: 0, shutdown_timeout_ms: 2_000, ...input.api },
    logging: { level: "debug", ...input.logging },
  } as Record<string, unknown>;
  const env = overrides.env ?? {};
  const config = parseServerConfig(raw, { env, source: "test" });
  const temp: TempDir | undefined = overrides.dataDir === undefined ? await createTempDir("node-mirth-server-") : undefined;
  const dataDir = overrides.dataDir ?? temp!.path;
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString("utf8").split("\n").filter((line) => line !== ""));
      callback();
    },
  });
  let running: RunningServer;
  try {
    running = await startServer({
      config,
      dataDir,
      env: { ...env },
      allowInsecureBind: overrides.allowInsecureBind ?? false,
      logDestination,
    });
  } catch (error) {
    await temp?.remove();
    throw error;
  }
  const close = async () => {
    await running.close();
    await temp?.remove();
  };
  return { ...running, dataDir, logs, close, [Symbol.asyncDispose]: close };
}
