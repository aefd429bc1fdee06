import { isNodeMirthError } from "@node-mirth/core";
import { resolve } from "node:path";
import { mkdirSync } from "node:fs";
import { loadServerConfig } from "../config/load-server-config.js";
import { installDemoChannels } from "../demo/demo-channels.js";
import { startServer, type RunningServer } from "../serve/start-server.js";
import { API_BIND_FIX, EXIT, isConfigurationRefusal } from "./exit-status.js";

export interface ServeCommandOptions {
  config?: string;
  allowInsecureBind?: boolean;
  /** Install the demo channels into the data directory when absent (`pnpm start`). */
  demo?: boolean;
}

/** The data directory when neither [store].path nor MIRTH_DATA_DIR names one. */
export const DEFAULT_DATA_DIR = "data";

/**
 * `node-mirth serve`: validates everything, starts, and on SIGTERM/SIGINT stops gracefully
 * (listeners drain within the deadline, channels stop, the store closes). A second signal
 * exits at once. Resolves with the exit status.
 */
export async function runServe(options: ServeCommandOptions): Promise<number> {
  let running: RunningServer;
  try {
    const config = loadServerConfig({ ...(options.config === undefined ? {} : { file: options.config }), env: process.env });
    const dataDir = resolve(config.store.path ?? DEFAULT_DATA_DIR);
    if (options.demo === true) {
      mkdirSync(resolve(dataDir, "channels"), { recursive: true, mode: 0o700 });
      installDemoChannels(dataDir);
    }
    running = await startServer({ config, dataDir, env: process.env, allowInsecureBind: options.allowInsecureBind === true });
  } catch (error) {
    const listenFailure = describeListenFailure(error);
    if (listenFailure !== undefined) {
      process.stderr.write(`node-mirth: ${listenFailure}\n`);
      return EXIT.failed;
    }
    if (!isConfigurationRefusal(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const fix = isNodeMirthError(error) && error.code === "ERR_POLICY_INSECURE_BIND" ? `\n${API_BIND_FIX}` : "";
    process.stderr.write(`node-mirth: ${message}${fix}\n`);
    return EXIT.refused;
  }
  return new Promise((resolveExit) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`node-mirth: second ${signal}, exiting without waiting\n`);
        process.exit(EXIT.failed);
      }
      stopping = true;
      running.logger.info({ signal }, "stopping");
      running.close().then(
        () => resolveExit(EXIT.ok),
        (error: unknown) => {
          running.logger.error({ err: error }, "stop failed");
          resolveExit(EXIT.failed);
        },
      );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}

/** A port taken or forbidden, said in one line instead of a stack trace. */
function describeListenFailure(error: unknown): string | undefined {
  const failure = error as NodeJS.ErrnoException & { address?: string; port?: number };
  if (failure.syscall !== "listen") return undefined;
  const where = `${failure.address ?? "?"}:${failure.port ?? "?"}`;
  if (failure.code === "EADDRINUSE") return `cannot listen on ${where}: the port is in use (another node-mirth?); choose another with PORT / HTTPS_PORT or [api] port.`;
  if (failure.code === "EACCES") return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose a port above 1024.`;
  return `cannot listen on ${where}: ${failure.message}`;
}
