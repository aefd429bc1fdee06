import { isAbsolute, join, relative, resolve } from "node:path";
import {
  defineConnector,
  type ConnectorEnvironment,
  type ConnectorPlugin,
  type DestinationConnector,
  type SourceConnector,
} from "@node-mirth/core";
import { isRemoteFileError, RemoteFileError } from "./errors.js";
import { createFileNameMatcher } from "./file-filter.js";
import { FileReader } from "./file-reader.js";
import type { FileSystemConnector } from "./file-system-client.js";
import { FileWriter } from "./file-writer.js";
import { assertFtpCredentialsSafe, connectFtp } from "./ftp-file-client.js";
import { LocalFileClient } from "./local-file-client.js";
import { remoteFilePropertiesSchema, type RemoteFileProperties } from "./remotefile-properties.js";
import { assertSafeDirectory } from "./safe-path.js";
import { connectSftp } from "./sftp-file-client.js";

export type RemoteFileScheme = "file" | "sftp" | "ftp" | "ftps";
export const REMOTEFILE_SCHEMES: readonly RemoteFileScheme[] = ["file", "sftp", "ftp", "ftps"];

function invalid(message: string): RemoteFileError {
  return new RemoteFileError("ERR_REMOTEFILE_INVALID_OPTIONS", message);
}

/** Deploy-time checks: the host and its egress entry, the host-key source, cleartext FTP credentials, local directories. */
function checkAtDeploy(scheme: RemoteFileScheme, props: RemoteFileProperties, env: ConnectorEnvironment): void {
  if (scheme === "file") {
    for (const dir of [props.directory, props.moveToDirectory, props.errorDirectory]) {
      if (dir === undefined) continue;
      assertSafeDirectory(dir);
      if (!isAbsolute(dir)) throw invalid("file connector directories must be absolute paths");
      const allowed = env.policy.egress?.config.allowed_file_dirs ?? [];
      // The realpath check (symlinks) runs again at every read and write.
      if (allowed.length > 0 && !allowed.some((a) => !relative(resolve(a), resolve(dir)).startsWith(".."))) {
        throw new RemoteFileError("ERR_REMOTEFILE_UNSAFE_PATH", `directory ${dir} is outside every [egress].allowed_file_dirs entry`, { details: { directory: dir } });
      }
    }
    return;
  }
  if (props.host === undefined) throw invalid(`${scheme} connector needs host`);
  env.policy.egress?.checkConfigured("remote", props.host, props.port ?? defaultPort(scheme, props));
  if (scheme === "sftp") {
    if (props.username === undefined) throw invalid("sftp connector needs username");
    if (props.password === undefined && props.privateKeyPath === undefined) throw invalid("sftp connector needs password or privateKeyPath");
  }
  if (scheme === "ftp") assertFtpCredentialsSafe({ security: "none", host: props.host, ...credentials(props) });
}

function credentials(props: RemoteFileProperties): { username?: string; password?: string } {
  return { ...(props.username === undefined ? {} : { username: props.username }), ...(props.password === undefined ? {} : { password: props.password }) };
}

function defaultPort(scheme: RemoteFileScheme, props: RemoteFileProperties): number {
  if (scheme === "sftp") return 22;
  return scheme === "ftps" && props.ftpsMode === "implicit" ? 990 : 21;
}

/** The connection factory for a scheme; remote ones check egress again at every connect. */
export function connectorFor(scheme: RemoteFileScheme, props: RemoteFileProperties, env: ConnectorEnvironment): FileSystemConnector {
  const egress = env.policy.egress;
  const port = defaultPort(scheme, props);
  switch (scheme) {
    case "file":
      return () => Promise.resolve(new LocalFileClient());
    case "sftp":
      return () =>
        connectSftp({
          host: props.host!,
          port: props.port ?? port,
          username: props.username!,
          keepaliveIntervalMs: props.keepaliveIntervalMs,
          connectTimeoutMs: props.connectTimeoutMs,
          ...(props.password === undefined ? {} : { password: props.password }),
          ...(props.privateKeyPath === undefined ? {} : { privateKeyPath: props.privateKeyPath }),
          ...(props.passphrase === undefined ? {} : { passphrase: props.passphrase }),
          ...(props.knownHostsPath === undefined ? {} : { knownHostsPath: props.knownHostsPath }),
          ...(props.hostKeySha256 === undefined ? {} : { hostKeySha256: props.hostKeySha256 }),
          ...(egress === undefined ? {} : { egress }),
        });
    case "ftp":
    case "ftps":
      return () =>
        connectFtp({
          host: props.host!,
          port: props.port ?? port,
          security: scheme === "ftp" ? "none" : props.ftpsMode,
          connectTimeoutMs: props.connectTimeoutMs,
          ...credentials(props),
          ...(props.tls === undefined ? {} : { tls: props.tls }),
          ...(egress === undefined ? {} : { egress }),
        });
  }
}

/** `sftp://user@host:port`, `file://`: names the server in logs and ledger keys; never a password. */
export function locationOf(scheme: RemoteFileScheme, props: RemoteFileProperties): string {
  if (scheme === "file") return "file://";
  return `${scheme}://${props.username === undefined ? "" : `${encodeURIComponent(props.username)}@`}${props.host}:${props.port ?? defaultPort(scheme, props)}`;
}

function createSource(scheme: RemoteFileScheme, props: RemoteFileProperties, env: ConnectorEnvironment): SourceConnector {
  checkAtDeploy(scheme, props, env);
  const matcher = createFileNameMatcher(props.fileFilter, props.filterIsRegex);
  if (props.afterProcessing === "move" && props.moveToDirectory === undefined) throw invalid("afterProcessing 'move' needs moveToDirectory");
  if (props.onError === "move" && props.errorDirectory === undefined) throw invalid("onError 'move' needs errorDirectory");
  let reader: FileReader | undefined;
  return {
    async start(ctx) {
      const egress = env.policy.egress;
      if (scheme === "file" && egress !== undefined) {
        for (const dir of [props.directory, props.moveToDirectory, props.errorDirectory]) if (dir !== undefined) await egress.checkFilePath(dir);
      }
      const next = new FileReader({
        connect: connectorFor(scheme, props, env),
        location: locationOf(scheme, props),
        directory: props.directory,
        matcher,
        recursive: props.recursive,
        sortBy: props.sortBy,
        pollIntervalMs: props.pollIntervalMs,
        stableMs: props.stableMs,
        maxFilesPerPoll: props.maxFilesPerPoll,
        content: props.content,
        charset: props.charset,
        split: props.split,
        maxFileBytes: props.maxFileBytes,
        afterProcessing: props.afterProcessing,
        onError: props.onError,
        ...(props.moveToDirectory === undefined ? {} : { moveToDirectory: props.moveToDirectory }),
        ...(props.errorDirectory === undefined ? {} : { errorDirectory: props.errorDirectory }),
        ledgerPath: props.ledgerPath ?? join(env.dataDir, "remotefile", `${env.channelId}.ledger.sqlite`),
        dispatch: (raw) => ctx.dispatch(raw),
        log: (level, text) => ctx.log(level, text),
      });
      next.start();
      reader = next;
    },
    async stop() {
      const current = reader;
      reader = undefined;
      await current?.stop();
    },
  };
}

function createDestination(scheme: RemoteFileScheme, props: RemoteFileProperties, env: ConnectorEnvironment): DestinationConnector {
  checkAtDeploy(scheme, props, env);
  const egress = env.policy.egress;
  const writer = new FileWriter({
    connect: connectorFor(scheme, props, env),
    location: locationOf(scheme, props),
    directory: props.directory,
    fileName: props.fileName,
    fileExists: props.fileExists,
    tempFile: props.tempFile && props.fileExists !== "append",
    createDirectories: props.createDirectories,
    content: props.content,
    charset: props.charset,
    ...(scheme === "file" && egress !== undefined ? { checkLocalPath: (path: string) => egress.checkFilePath(path) } : {}),
  });
  return {
    async send(message) {
      try {
        const result = await writer.write(message);
        return { status: "SENT", message: `wrote ${result.bytes} bytes to ${result.path}` };
      } catch (error) {
        const code = isRemoteFileError(error) ? error.code : (error as { code?: string }).code;
        // A refused path or an existing file will be refused again: no retry.
        const permanent = code === "ERR_REMOTEFILE_UNSAFE_PATH" || code === "ERR_REMOTEFILE_FILE_EXISTS" || code === "ERR_POLICY_EGRESS_DENIED" || code === "ERR_TEMPLATE_VALUE_MISSING" || code === "ERR_TEMPLATE_INVALID";
        return { status: "ERROR", retryable: !permanent, message: `${code ?? "error"}: ${(error as Error).message}` };
      }
    },
    async stop() {
      await writer.close();
    },
  };
}

/**
 * The four file connector plugins: `createEngine({ store, plugins: [...remotefile()] })`.
 * Sources poll a directory; destinations write one file per message.
 */
export function remotefile(): ConnectorPlugin<RemoteFileProperties>[] {
  return REMOTEFILE_SCHEMES.map((scheme) =>
    defineConnector({
      type: scheme,
      propertiesSchema: remoteFilePropertiesSchema,
      createSource: (props, env) => createSource(scheme, props, env),
      createDestination: (props, env) => createDestination(scheme, props, env),
    }),
  );
}
