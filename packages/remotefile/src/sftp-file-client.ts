import { readFile } from "node:fs/promises";
import { posix } from "node:path";
import type { Readable, Writable } from "node:stream";
import { insecureTlsAllowed, warnInsecureUse, type EgressPolicy, type PolicyWarningHandler } from "@node-mirth/core";
import { Client, type ConnectConfig, type SFTPWrapper, type Stats } from "ssh2";
import { RemoteFileError, transferError } from "./errors.js";
import type { FileEntry, FileSystemClient, WriteStreamOptions } from "./file-system-client.js";
import {
  checkKnownHost,
  knownHostName,
  normalizeFingerprint,
  parseKnownHosts,
  sha256Fingerprint,
  type HostKeyDecision,
} from "./known-hosts.js";
import { sftpReadStream, sftpWriteStream } from "./sftp-streams.js";

export interface SftpConnectOptions {
  host: string;
  port?: number;
  username: string;
  password?: string;
  /** Path of a private key file (OpenSSH or PEM). */
  privateKeyPath?: string;
  passphrase?: string;
  /** An OpenSSH known_hosts file; the server's key must be listed for this host. */
  knownHostsPath?: string;
  /** A pinned host key fingerprint, `SHA256:...` as `ssh-keygen -lf` prints it. */
  hostKeySha256?: string;
  keepaliveIntervalMs?: number;
  connectTimeoutMs?: number;
  /** Connect-time `[egress].allowed_remote` check; connect goes to the vetted address. */
  egress?: EgressPolicy;
  /** Receives the loud warning when an unknown host key is accepted under MIRTH_ALLOW_INSECURE_TLS=1. */
  onWarning?: PolicyWarningHandler;
}

interface HostKeyVerdict {
  decision: HostKeyDecision;
  fingerprint: string;
}

function entryOf(directory: string, name: string, attrs: Stats): FileEntry {
  return {
    name,
    path: posix.join(directory, name),
    type: attrs.isFile() ? "file" : attrs.isDirectory() ? "directory" : "other",
    size: attrs.size,
    mtimeMs: attrs.mtime * 1000,
  };
}

function call<T>(action: string, run: (callback: (error: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    run((error, value) => (error ? reject(transferError(action, error)) : resolve(value)));
  });
}

/** Decides on the presented key from the pin, else known_hosts; no source at all is "unknown". */
function judgeHostKey(options: SftpConnectOptions, knownHosts: string | undefined, key: Buffer): HostKeyVerdict {
  const fingerprint = sha256Fingerprint(key);
  if (options.hostKeySha256 !== undefined) {
    return { decision: normalizeFingerprint(options.hostKeySha256) === fingerprint ? "trusted" : "mismatch", fingerprint };
  }
  if (knownHosts === undefined) return { decision: "unknown", fingerprint };
  const name = knownHostName(options.host, options.port ?? 22);
  return { decision: checkKnownHost(parseKnownHosts(knownHosts), { name, key }), fingerprint };
}

function hostKeyError(options: SftpConnectOptions, verdict: HostKeyVerdict): RemoteFileError {
  const where = `${options.host}:${options.port ?? 22}`;
  if (verdict.decision === "mismatch") {
    return new RemoteFileError(
      "ERR_REMOTEFILE_HOST_KEY_MISMATCH",
      `SFTP server ${where} presented host key ${verdict.fingerprint}, which is not the key known for it; refused (possible man in the middle). If the server's key really changed, update knownHostsPath or hostKeySha256.`,
      { details: { host: options.host, port: options.port ?? 22, fingerprint: verdict.fingerprint } },
    );
  }
  return new RemoteFileError(
    "ERR_REMOTEFILE_HOST_KEY_UNKNOWN",
    `SFTP server ${where} presented host key ${verdict.fingerprint}, which is not in knownHostsPath and not pinned; refused. Verify it out of band and pin it with hostKeySha256, or add it to knownHostsPath.`,
    { details: { host: options.host, port: options.port ?? 22, fingerprint: verdict.fingerprint } },
  );
}

/**
 * Opens an SFTP session (ssh2) after checking egress and verifying the host key. The host
 * key must be pinned or in known_hosts: a mismatch is always refused, an unknown key only
 * passes under MIRTH_ALLOW_INSECURE_TLS=1 with a loud warning.
 */
export async function connectSftp(options: SftpConnectOptions): Promise<SftpFileClient> {
  const port = options.port ?? 22;
  const address = options.egress === undefined ? options.host : (await options.egress.checkConnect("remote", options.host, port)).address;
  const knownHosts = options.knownHostsPath === undefined ? undefined : await readFile(options.knownHostsPath, "utf8").catch((error: unknown) => {
    throw transferError("reading knownHostsPath", error);
  });
  const privateKey = options.privateKeyPath === undefined ? undefined : await readFile(options.privateKeyPath).catch((error: unknown) => {
    throw transferError("reading privateKeyPath", error);
  });
  let verdict: HostKeyVerdict | undefined;
  const client = new Client();
  const config: ConnectConfig = {
    host: address,
    port,
    username: options.username,
    readyTimeout: options.connectTimeoutMs ?? 20_000,
    keepaliveInterval: options.keepaliveIntervalMs ?? 15_000,
    keepaliveCountMax: 3,
    hostVerifier: (key: Buffer) => {
      verdict = judgeHostKey(options, knownHosts, key);
      if (verdict.decision === "trusted") return true;
      if (verdict.decision === "unknown" && insecureTlsAllowed()) {
        warnInsecureUse(`SFTP server ${options.host}:${port}: unknown host key ${verdict.fingerprint} accepted`, options.onWarning);
        return true;
      }
      return false;
    },
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(privateKey === undefined ? {} : { privateKey }),
    ...(options.passphrase === undefined ? {} : { passphrase: options.passphrase }),
  };
  try {
    await new Promise<void>((resolve, reject) => {
      client.once("ready", resolve);
      client.once("error", reject);
      client.once("close", () => reject(new Error("the connection closed during the handshake")));
      client.connect(config);
    });
  } catch (error) {
    client.end();
    if (verdict !== undefined && verdict.decision !== "trusted" && !(verdict.decision === "unknown" && insecureTlsAllowed())) {
      throw hostKeyError(options, verdict);
    }
    throw new RemoteFileError("ERR_REMOTEFILE_CONNECT_FAILED", `could not connect to SFTP server ${options.host}:${port}: ${(error as Error).message}`, {
      cause: error,
      details: { host: options.host, port },
    });
  }
  // Errors after the handshake surface on the operation in flight; this keeps them from
  // becoming uncaught 'error' events.
  client.on("error", () => undefined);
  // SFTP is request/response: Nagle's algorithm plus delayed ACKs would add tens of ms per request.
  client.setNoDelay(true);
  try {
    const sftp = await call<SFTPWrapper>("opening the SFTP subsystem", (cb) => client.sftp(cb));
    return new SftpFileClient(client, sftp);
  } catch (error) {
    client.end();
    throw error;
  }
}

/** An SFTP session behind the FileSystemClient surface. */
export class SftpFileClient implements FileSystemClient {
  readonly #client: Client;
  readonly #sftp: SFTPWrapper;
  #closed = false;

  constructor(client: Client, sftp: SFTPWrapper) {
    this.#client = client;
    this.#sftp = sftp;
    client.once("close", () => {
      this.#closed = true;
    });
  }

  /** False once the SSH connection has closed; the reader and writer then reconnect. */
  get connected(): boolean {
    return !this.#closed;
  }

  async list(directory: string): Promise<FileEntry[]> {
    const entries = await call<{ filename: string; attrs: Stats }[]>("listing a directory", (cb) => this.#sftp.readdir(directory, cb));
    return entries.map((e) => entryOf(directory, e.filename, e.attrs));
  }

  async stat(path: string): Promise<FileEntry | undefined> {
    try {
      const attrs = await call<Stats>("reading file attributes", (cb) => this.#sftp.stat(path, cb));
      return entryOf(posix.dirname(path), posix.basename(path), attrs);
    } catch (error) {
      // SFTP status 2 is NO_SUCH_FILE.
      if ((error as { cause?: { code?: unknown } }).cause?.code === 2) return undefined;
      throw error;
    }
  }

  createReadStream(path: string): Readable {
    const out = sftpReadStream(this.#sftp, path);
    const onDrop = () => out.destroy(transferError("reading a file", new Error("the SSH connection closed mid-transfer")));
    this.#client.once("close", onDrop);
    out.once("close", () => this.#client.off("close", onDrop));
    return out;
  }

  createWriteStream(path: string, options: WriteStreamOptions = {}): Writable {
    const out = sftpWriteStream(this.#sftp, { path, append: options.append === true });
    const onDrop = () => out.destroy(transferError("writing a file", new Error("the SSH connection closed mid-transfer")));
    this.#client.once("close", onDrop);
    out.once("close", () => this.#client.off("close", onDrop));
    return out;
  }

  async rename(from: string, to: string): Promise<void> {
    // posix-rename@openssh.com replaces the target atomically; plain SFTP v3 rename refuses to.
    await call<undefined>("renaming a file", (cb) => this.#sftp.ext_openssh_rename(from, to, (error) => cb(error, undefined)));
  }

  async delete(path: string): Promise<void> {
    await call<undefined>("deleting a file", (cb) => this.#sftp.unlink(path, (error) => cb(error, undefined)));
  }

  async mkdir(path: string): Promise<void> {
    const parts = posix.normalize(path).split("/");
    let current = path.startsWith("/") ? "/" : "";
    for (const part of parts) {
      if (part === "") continue;
      current = posix.join(current, part);
      const existing = await this.stat(current);
      if (existing?.type === "directory") continue;
      await call<undefined>("creating a directory", (cb) => this.#sftp.mkdir(current, { mode: 0o750 }, (error) => cb(error, undefined)));
    }
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#client.once("close", () => resolve());
      this.#client.end();
    });
  }
}
