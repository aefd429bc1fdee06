import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { renderMessageTemplate, type OutboundMessage } from "@node-mirth/core";
import { RemoteFileError, transferError } from "./errors.js";
import type { FileSystemClient, FileSystemConnector } from "./file-system-client.js";
import type { TextCharset } from "./message-splitter.js";
import { assertSafeDirectory, assertSafeName } from "./safe-path.js";

export type FileExistsPolicy = "append" | "overwrite" | "error";

export interface FileWriterOptions {
  connect: FileSystemConnector;
  location: string;
  /** Directory template, e.g. `/out/${date('yyyyMMdd')}`; rendered per message, no `..`. */
  directory: string;
  /** File name template, e.g. `${originalFilename}` or `${message.messageId}.hl7`; one path segment. */
  fileName: string;
  fileExists?: FileExistsPolicy;
  /** Write `.<name>.<random>.tmp` first, then rename: readers never see a half-written file. */
  tempFile?: boolean;
  createDirectories?: boolean;
  content?: "text" | "binary";
  charset?: TextCharset;
  /** Local scheme: the real path must pass `[egress].allowed_file_dirs`; returns the path to use. */
  checkLocalPath?: (path: string) => Promise<string>;
}

export interface WriteResult {
  path: string;
  bytes: number;
}

const CHUNK = 256 * 1024;

/** The content as bytes, in chunks, so a large message is never copied whole a second time. */
function contentChunks(content: string, encoding: BufferEncoding): Readable {
  return Readable.from(
    (function* () {
      for (let i = 0; i < content.length; i += CHUNK) yield Buffer.from(content.slice(i, i + CHUNK), encoding);
    })(),
  );
}

/** Writes each message to a file on the local file system or a server; one connection, reopened after a failure. */
export class FileWriter {
  readonly #options: FileWriterOptions;
  #client: Promise<FileSystemClient> | undefined;

  constructor(options: FileWriterOptions) {
    if (options.tempFile === true && options.fileExists === "append") {
      throw new RemoteFileError("ERR_REMOTEFILE_INVALID_OPTIONS", "tempFile cannot be combined with fileExists 'append'");
    }
    this.#options = options;
  }

  /** The target path for a message: templates rendered, then refused if they would leave the directory. */
  targetPath(message: OutboundMessage, now = new Date()): string {
    const original = message.sourceMap.get("originalFilename");
    const context = {
      message,
      now,
      // A message from a non-file source has no original name: its id stands in.
      variables: { originalFilename: typeof original === "string" ? original : String(message.messageId) },
    };
    const directory = assertSafeDirectory(renderMessageTemplate(this.#options.directory, context), "directory");
    const name = assertSafeName(renderMessageTemplate(this.#options.fileName, context), "file name");
    return posix.join(directory, name);
  }

  async write(message: OutboundMessage): Promise<WriteResult> {
    const options = this.#options;
    let path = this.targetPath(message);
    if (options.checkLocalPath !== undefined) path = await options.checkLocalPath(path);
    const binary = options.content === "binary";
    // Binary messages travel through the engine base64-encoded, as in Mirth.
    const bytes = binary ? Buffer.byteLength(message.content, "base64") : Buffer.byteLength(message.content, options.charset ?? "utf8");
    const client = await this.#connected();
    try {
      if (options.createDirectories !== false) await client.mkdir(posix.dirname(path));
      const policy = options.fileExists ?? "overwrite";
      if (policy === "error" && (await client.stat(path)) !== undefined) {
        throw new RemoteFileError("ERR_REMOTEFILE_FILE_EXISTS", `file ${path} already exists on ${options.location} and fileExists is 'error'`, { details: { path } });
      }
      const body = binary ? Readable.from([Buffer.from(message.content, "base64")]) : contentChunks(message.content, options.charset ?? "utf8");
      if (options.tempFile === true) {
        const temp = posix.join(posix.dirname(path), `.${posix.basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
        try {
          await pipeline(body, client.createWriteStream(temp));
          await client.rename(temp, path);
        } catch (error) {
          await client.delete(temp).catch(() => undefined);
          throw error;
        }
      } else {
        await pipeline(body, client.createWriteStream(path, { append: policy === "append" }));
      }
      return { path, bytes };
    } catch (error) {
      const wrapped = transferError("writing a file", error);
      if (wrapped.code === "ERR_REMOTEFILE_TRANSFER_FAILED") await this.close();
      throw wrapped;
    }
  }

  /** Concurrent sends share one connect: the promise, not the client, is what is cached. */
  async #connected(): Promise<FileSystemClient> {
    const pending = this.#client;
    const current = pending === undefined ? undefined : await pending.catch(() => undefined);
    if (current !== undefined && current.connected !== false) return current;
    if (this.#client === pending) {
      // Replaced before any await, so callers arriving meanwhile wait on the same connect.
      void current?.close().catch(() => undefined);
      const next = this.#options.connect();
      this.#client = next;
      // A failed connect is forgotten, so the next send tries again.
      next.catch(() => {
        if (this.#client === next) this.#client = undefined;
      });
    }
    return this.#client!;
  }

  async close(): Promise<void> {
    const pending = this.#client;
    this.#client = undefined;
    const client = await pending?.catch(() => undefined);
    await client?.close().catch(() => undefined);
  }
}
