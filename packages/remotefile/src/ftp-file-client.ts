import { isIP } from "node:net";
import { posix } from "node:path";
import { PassThrough, Writable, type Readable } from "node:stream";
import { createClientTlsOptions, type TlsPropertiesInput } from "@node-mirth/certs";
import { assertSecureOrAllowed, type EgressPolicy, type PolicyWarningHandler } from "@node-mirth/core";
import { Client, FileType, type FileInfo } from "basic-ftp";
import { RemoteFileError, transferError } from "./errors.js";
import type { FileEntry, FileSystemClient, WriteStreamOptions } from "./file-system-client.js";
import { forwardingWriteStream } from "./forwarding-write-stream.js";

export type FtpSecurity = "none" | "explicit" | "implicit";

export interface FtpConnectOptions {
  host: string;
  port?: number;
  /** Default `anonymous`. */
  username?: string;
  password?: string;
  /** none = plain FTP; explicit = AUTH TLS on the control port; implicit = TLS from the first byte (port 990). */
  security: FtpSecurity;
  /** Trust store, client certificate and TLS floor, as @node-mirth/certs builds them. */
  tls?: TlsPropertiesInput;
  connectTimeoutMs?: number;
  egress?: EgressPolicy;
  onWarning?: PolicyWarningHandler;
}

function hasCredentials(options: FtpConnectOptions): boolean {
  const user = options.username ?? "anonymous";
  return (user !== "anonymous" && user !== "ftp") || (options.password ?? "") !== "";
}

/** Refuses plain FTP that would carry a user name or password in cleartext, unless the escape is set. */
export function assertFtpCredentialsSafe(options: Pick<FtpConnectOptions, "security" | "username" | "password" | "host"> & { onWarning?: PolicyWarningHandler }): void {
  if (options.security !== "none" || !hasCredentials(options)) return;
  try {
    assertSecureOrAllowed(`FTP to ${options.host}: credentials over plain FTP (cleartext)`, options.onWarning === undefined ? {} : { onWarning: options.onWarning });
  } catch (error) {
    throw new RemoteFileError(
      "ERR_REMOTEFILE_CLEARTEXT_CREDENTIALS",
      `plain FTP to ${options.host} would send the user name and password in cleartext; refused. Use scheme ftps (explicit or implicit TLS), or set MIRTH_ALLOW_INSECURE_TLS=1 for development only.`,
      { cause: error, details: { host: options.host } },
    );
  }
}

function entryOf(directory: string, info: FileInfo): FileEntry {
  return {
    name: info.name,
    path: posix.join(directory, info.name),
    type: info.type === FileType.File ? "file" : info.type === FileType.Directory ? "directory" : "other",
    size: info.size,
    mtimeMs: info.modifiedAt?.getTime() ?? 0,
  };
}

/**
 * Opens an FTP or FTPS session (basic-ftp, passive mode, data connections to the control
 * host only). Plain FTP with credentials is refused unless MIRTH_ALLOW_INSECURE_TLS=1;
 * FTPS verifies the server's certificate and name with the @node-mirth/certs client options.
 */
export async function connectFtp(options: FtpConnectOptions): Promise<FtpFileClient> {
  assertFtpCredentialsSafe(options);
  const port = options.port ?? (options.security === "implicit" ? 990 : 21);
  const address = options.egress === undefined ? options.host : (await options.egress.checkConnect("remote", options.host, port)).address;
  // Data connections go to the control connection's (vetted) address, whatever PASV says:
  // a server cannot point the client at another host.
  const client = new Client(options.connectTimeoutMs ?? 20_000, { allowSeparateTransferHost: false });
  const tlsOptions = options.security === "none" ? undefined : {
    ...createClientTlsOptions(options.tls ?? {}),
    // The vetted address is dialled; the configured name is what the certificate must cover.
    ...(isIP(options.host) === 0 ? { servername: options.host } : {}),
    host: options.host,
  };
  try {
    await client.access({
      host: address,
      port,
      user: options.username ?? "anonymous",
      password: options.password ?? "",
      secure: options.security === "none" ? false : options.security === "implicit" ? "implicit" : true,
      ...(tlsOptions === undefined ? {} : { secureOptions: tlsOptions }),
    });
  } catch (error) {
    client.close();
    throw new RemoteFileError("ERR_REMOTEFILE_CONNECT_FAILED", `could not connect to FTP server ${options.host}:${port}: ${(error as Error).message}`, {
      cause: error,
      details: { host: options.host, port, security: options.security },
    });
  }
  return new FtpFileClient(client);
}

/**
 * An FTP session behind the FileSystemClient surface. FTP runs one command at a time, so
 * operations are queued; a read or write holds the queue until the server confirms it.
 */
export class FtpFileClient implements FileSystemClient {
  readonly #client: Client;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(client: Client) {
    this.#client = client;
  }

  get connected(): boolean {
    return !this.#client.closed;
  }

  #run<T>(action: string, operation: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(operation, operation).catch((error: unknown) => {
      throw transferError(action, error);
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  list(directory: string): Promise<FileEntry[]> {
    return this.#run("listing a directory", async () => {
      const infos = await this.#client.list(directory);
      const entries = infos.filter((i) => i.name !== "." && i.name !== "..").map((i) => entryOf(directory, i));
      // LIST carries no exact modification time (MLSD is not everywhere): ask MDTM per file.
      for (const entry of entries) {
        if (entry.type === "file" && entry.mtimeMs === 0) {
          entry.mtimeMs = (await this.#client.lastMod(entry.path)).getTime();
        }
      }
      return entries;
    });
  }

  stat(path: string): Promise<FileEntry | undefined> {
    return this.#run("reading file attributes", async () => {
      const directory = posix.dirname(path);
      const infos = await this.#client.list(directory);
      const info = infos.find((i) => i.name === posix.basename(path));
      if (info === undefined) return undefined;
      const entry = entryOf(directory, info);
      if (entry.type === "file" && entry.mtimeMs === 0) entry.mtimeMs = (await this.#client.lastMod(path)).getTime();
      return entry;
    });
  }

  createReadStream(path: string): Readable {
    const out = new PassThrough({ highWaterMark: 256 * 1024 });
    // basic-ftp ends its destination when the data socket ends, before the server's 226;
    // this sink never ends `out`, which ends only once downloadTo confirms the transfer.
    const gone = () => new Error("the reader stopped reading");
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        // A consumer that gave up must not leave the download (and the FTP queue) waiting.
        if (out.destroyed) return callback(gone());
        if (out.write(chunk)) return callback();
        const onDrain = () => {
          out.off("close", onClose);
          callback();
        };
        const onClose = () => {
          out.off("drain", onDrain);
          callback(gone());
        };
        out.once("drain", onDrain);
        out.once("close", onClose);
      },
    });
    this.#run("reading a file", () => this.#client.downloadTo(sink, path)).then(
      () => out.end(),
      (error: unknown) => out.destroy(error as Error),
    );
    return out;
  }

  createWriteStream(path: string, options: WriteStreamOptions = {}): Writable {
    const source = new PassThrough({ highWaterMark: 256 * 1024 });
    const done = this.#run("writing a file", async () => {
      await (options.append === true ? this.#client.appendFrom(source, path) : this.#client.uploadFrom(source, path));
    });
    return forwardingWriteStream(source, done);
  }

  rename(from: string, to: string): Promise<void> {
    return this.#run("renaming a file", async () => {
      await this.#client.rename(from, to);
    });
  }

  delete(path: string): Promise<void> {
    return this.#run("deleting a file", async () => {
      await this.#client.remove(path);
    });
  }

  mkdir(path: string): Promise<void> {
    return this.#run("creating a directory", async () => {
      // ensureDir changes the working directory; every other call uses absolute paths.
      await this.#client.ensureDir(path);
    });
  }

  close(): Promise<void> {
    this.#client.close();
    return Promise.resolve();
  }
}
