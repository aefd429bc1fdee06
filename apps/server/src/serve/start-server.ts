import { createEgressPolicy, createEngine, SqliteStore, type Engine } from "@node-mirth/core";
import { dicom } from "@node-mirth/dicom";
import { http } from "@node-mirth/http";
import { mllp } from "@node-mirth/mllp-tls";
import { remotefile } from "@node-mirth/remotefile";
import { smtp } from "@node-mirth/smtp";
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type { DestinationStream, Logger } from "pino";
import { createApiApp } from "../api/create-api-app.js";
import { createFileChannelRepository } from "../api/channel-repository.js";
import { createAuditLog } from "../audit/audit-log.js";
import type { AuditLog } from "../audit/audit-types.js";
import { createAuthService } from "../auth/auth-service.js";
import type { AuthService } from "../auth/auth-types.js";
import { openServerDatabase } from "../auth/server-database.js";
import { attachWebSockets, type AttachedWebSockets } from "../ws/attach-websockets.js";
import packageJson from "../../package.json" with { type: "json" };
import type { ServerConfig } from "../config/server-config.js";
import { demoConfigurationMap } from "../demo/demo-channels.js";
import { createServerLogger } from "../logging/create-logger.js";
import type { LogLineTee } from "../logging/log-line-tee.js";
import { createFrontApp } from "./front-app.js";
import { closeServer } from "./listen.js";
import { openApiListeners } from "./open-api-listeners.js";
import { logEngineEvents } from "./log-engine-events.js";
import { planApiListeners } from "./plan-api-listeners.js";
import { readChannelFiles } from "./read-channel-files.js";

export interface StartServerOptions {
  config: ServerConfig;
  /** Holds messages.db, server.db and channels/; created when missing. */
  dataDir: string;
  /** Read for MIRTH_ALLOW_INSECURE_TLS and `${VAR}` in channels; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** `--allow-insecure-bind`: the loud development escape for the API and inbound listeners. */
  allowInsecureBind?: boolean;
  /** Where log lines go besides /ws/serverlog; default stdout. */
  logDestination?: DestinationStream;
  /** The auth service's clock (session timeouts, TOTP steps); tests move it. Default Date.now. */
  clock?: () => number;
}

export interface RunningServer {
  /** The plain HTTP URL (health only when HTTPS is on). */
  url: string;
  /** Set when the API has a certificate: where the API is. */
  httpsUrl?: string;
  /** Set with `[api].metrics_port`: the loopback-only, unauthenticated `/metrics`. */
  metricsUrl?: string;
  engine: Engine;
  /** The hash-chained audit log in server.db. */
  audit: AuditLog;
  /** Local accounts and sessions (tests create users through it). */
  auth: AuthService;
  /** server.db (users, audit log); tests read it to check what was written. */
  serverDb: DatabaseSync;
  logger: Logger;
  logLines: LogLineTee;
  /** Stops the listeners (draining with the shutdown deadline), the engine and the stores; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts node-mirth: the bind guard and key material first (nothing opened when refused),
 * then the data directory, the message store, the engine with its connector plugins (mllp,
 * http, smtp, dicom, file/sftp/ftp/ftps), the
 * channels saved in `<data>/channels`, and the API listeners.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, dataDir } = options;
  const env = options.env ?? process.env;
  const { logger, lines } = createServerLogger({
    level: config.logging.level,
    ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
  });
  const onWarning = (warning: { code: string; message: string; details: Record<string, unknown> }) =>
    logger.warn({ code: warning.code, details: warning.details }, warning.message);
  const allowInsecureBind = options.allowInsecureBind ?? false;
  const plan = planApiListeners({ config, allowInsecureBind, env, onWarning });

  const channelsDir = join(dataDir, "channels");
  mkdirSync(channelsDir, { recursive: true, mode: 0o700 });
  const serverDb = openServerDatabase(join(dataDir, "server.db"));
  const audit = createAuditLog(serverDb);
  const auth = createAuthService({
    db: serverDb,
    config: config.auth,
    audit,
    env,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  let store: SqliteStore;
  try {
    store = new SqliteStore({ dataDir });
  } catch (error) {
    auth.close();
    serverDb.close();
    throw error;
  }
  const engine = createEngine({
    store,
    plugins: [mllp(), http(), smtp(), dicom(), ...remotefile()],
    policy: { allowInsecureBind, egress: createEgressPolicy(config.egress) },
    configurationMap: { ...demoConfigurationMap(env), INBOUND_BIND_HOST: config.inbound.bind_host, DATA_DIR: dataDir },
    env,
    dataDir,
  });
  const stopLogging = logEngineEvents(engine, logger);
  const servers: Server[] = [];
  let sockets: AttachedWebSockets | undefined;
  let stopApi: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const deadline = config.api.shutdown_timeout_ms;
      await sockets?.close();
      await Promise.all(servers.map((server) => closeServer(server, deadline)));
      stopApi?.();
      await engine.close();
      stopLogging();
      await store.close();
      auth.close();
      serverDb.close();
      logger.info("node-mirth stopped");
      logger.flush();
    })();
    return closing;
  };

  try {
    await deployChannelFiles(engine, channelsDir, logger);
    const api = createApiApp({
      engine,
      store,
      auth,
      audit,
      channelRepository: createFileChannelRepository(channelsDir),
      serverInfo: { version: packageJson.version, startedAt: Date.now() },
      logger,
    });
    stopApi = () => api.close();
    const app = createFrontApp({
      api,
      trustedProxies: config.api.trusted_proxies,
      httpsOn: plan.https !== undefined,
      tlsTerminatedUpstream: config.api.tls_terminated_upstream,
      ...(plan.https === undefined ? {} : { httpsPort: plan.https.port }),
    });
    const listeners = await openApiListeners({
      app,
      plan,
      metricsPort: config.api.metrics_port,
      metricsHandler: api.metricsHandler,
      servers,
    });
    sockets = attachWebSockets({ servers: listeners.sessionServers, auth, engine, logLines: lines });
    const running: RunningServer = {
      url: listeners.url,
      ...(listeners.httpsUrl === undefined ? {} : { httpsUrl: listeners.httpsUrl }),
      ...(listeners.metricsUrl === undefined ? {} : { metricsUrl: listeners.metricsUrl }),
      engine,
      audit,
      auth,
      serverDb,
      logger,
      logLines: lines,
      close,
    };
    const reserved = Object.keys(env).filter((name) => name.startsWith("MIRTH_CLUSTER_") && name !== "MIRTH_CLUSTER_ENABLED");
    if (reserved.length > 0) {
      logger.warn({ variables: reserved }, "MIRTH_CLUSTER_* variables are reserved for the cluster, which this build does not have; they are ignored");
    }
    logger.info(
      { url: running.url, httpsUrl: running.httpsUrl, bind: plan.bind.reason, dataDir },
      `node-mirth listening on ${running.httpsUrl ?? running.url}`,
    );
    return running;
  } catch (error) {
    await close();
    throw error;
  }
}

async function deployChannelFiles(engine: Engine, channelsDir: string, logger: Logger): Promise<void> {
  const files = readChannelFiles(channelsDir);
  for (const bad of files.filter((file) => file.error !== undefined)) {
    logger.error({ file: bad.file, reason: bad.error }, "channel file is not valid JSON; not deployed");
  }
  const readable = files.filter((file) => file.error === undefined);
  const reports = await engine.deployAll(readable.map((file) => file.document));
  reports.forEach((report, index) => {
    const file = readable[index]?.file;
    if (report.ok) logger.info({ channelId: report.channelId, file }, "channel deployed");
    else logger.error({ channelId: report.channelId, file, code: report.error?.code, err: report.error }, "channel not deployed");
  });
}
