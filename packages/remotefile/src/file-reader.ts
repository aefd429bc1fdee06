import { posix } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { DispatchResult, LogLevel, RawMessage } from "@node-mirth/core";
import { isRemoteFileError, RemoteFileError, transferError } from "./errors.js";
import type { FileNameMatcher } from "./file-filter.js";
import { FileLedger, type LedgerKey } from "./file-ledger.js";
import type { FileEntry, FileSystemClient, FileSystemConnector } from "./file-system-client.js";
import { MessageSplitter, type SplitMode, type TextCharset } from "./message-splitter.js";
import { assertSafeName, joinInside } from "./safe-path.js";

export type AfterProcessing = "delete" | "move" | "leave";
export type SortBy = "name" | "date" | "size";

export interface FileReaderOptions {
  connect: FileSystemConnector;
  /** Names the server in logs and ledger keys, e.g. `sftp://lab@10.0.0.5:22`; never a secret. */
  location: string;
  directory: string;
  matcher: FileNameMatcher;
  recursive?: boolean;
  sortBy?: SortBy;
  pollIntervalMs?: number;
  /** A file is read only once its modification time is at least this old (writers have finished). */
  stableMs?: number;
  maxFilesPerPoll?: number;
  /** text: decoded with `charset`; binary: the bytes as they are (one message per file). */
  content?: "text" | "binary";
  charset?: TextCharset;
  split?: SplitMode;
  /** Whole-file messages larger than this are refused (they are held in memory once). */
  maxFileBytes?: number;
  afterProcessing?: AfterProcessing;
  moveToDirectory?: string;
  onError?: "move" | "leave";
  errorDirectory?: string;
  /** The processed-file ledger's SQLite file. */
  ledgerPath: string;
  dispatch: (raw: RawMessage) => Promise<DispatchResult>;
  log?: (level: LogLevel, text: string) => void;
}

/** What one poll did, for tests and operator logs. */
export interface PollReport {
  /** Files whose messages were committed and that were then acknowledged. */
  processed: string[];
  /** Files moved to the error directory (or left and marked) after a permanent failure. */
  failed: string[];
  /** Files left unacknowledged for the next poll (transfer or dispatch failure). */
  retry: string[];
  /** Files already committed earlier (ledger) whose after-action was only finished now. */
  acknowledgedFromLedger: string[];
  messages: number;
}

const IN_FLIGHT = 64;
/** Files acknowledged together (one ledger fsync for the batch). */
const ACK_BATCH = 64;

/** A file whose messages are committed, waiting for its after-action. */
interface Settled {
  file: FileEntry;
  key: LedgerKey;
  outcome: "processed" | "failed";
  fromLedger: boolean;
}
const MAX_DEPTH = 32;

function compare(sortBy: SortBy): (a: FileEntry, b: FileEntry) => number {
  if (sortBy === "date") return (a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path);
  if (sortBy === "size") return (a, b) => a.size - b.size || a.path.localeCompare(b.path);
  return (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/**
 * Polls a directory (local, SFTP, FTP, FTPS) and hands each file's messages to `dispatch`.
 *
 * Durability: a file is acknowledged (deleted, moved, or marked done in the ledger) only
 * after every one of its messages is committed. Its ledger row is synced between the last
 * commit and the after-action, so a crash there finishes the after-action on restart without
 * reading the file again. A crash before the row means the file is read again
 * (at-least-once: its messages may be stored twice, never lost).
 */
export class FileReader {
  readonly #options: FileReaderOptions;
  readonly #ledger: FileLedger;
  #client: FileSystemClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<PollReport> | undefined;
  #running = false;
  #stopping = false;

  constructor(options: FileReaderOptions) {
    if ((options.afterProcessing ?? "delete") === "move" && options.moveToDirectory === undefined) {
      throw new RemoteFileError("ERR_REMOTEFILE_INVALID_OPTIONS", "afterProcessing 'move' needs moveToDirectory");
    }
    if (options.onError === "move" && options.errorDirectory === undefined) {
      throw new RemoteFileError("ERR_REMOTEFILE_INVALID_OPTIONS", "onError 'move' needs errorDirectory");
    }
    if (options.content === "binary" && (options.split ?? "file") !== "file") {
      throw new RemoteFileError("ERR_REMOTEFILE_INVALID_OPTIONS", "binary content is one message per file; split needs text content");
    }
    this.#options = options;
    this.#ledger = new FileLedger(options.ledgerPath);
  }

  /** Starts polling: the first poll at once, then every pollIntervalMs after the previous one ends. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops polling, waits for the poll in flight (it acknowledges nothing it did not finish), disconnects. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping = true;
    clearTimeout(this.#timer);
    await this.#polling?.catch(() => undefined);
    await this.#disconnect();
    this.#ledger.close();
  }

  /** One poll now (tests, and the scheduler). Polls never overlap. */
  poll(): Promise<PollReport> {
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.poll()
        .catch((error: unknown) => this.#log("warn", `poll of ${this.#options.location} failed: ${(error as Error).message}`))
        .finally(() => {
          if (this.#running) this.#schedule(this.#options.pollIntervalMs ?? 5_000);
        });
    }, delayMs);
  }

  #log(level: LogLevel, text: string): void {
    this.#options.log?.(level, text);
  }

  async #connected(): Promise<FileSystemClient> {
    const current = this.#client;
    if (current !== undefined && current.connected !== false) return current;
    await current?.close().catch(() => undefined);
    this.#client = undefined;
    this.#client = await this.#options.connect();
    return this.#client;
  }

  async #disconnect(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    await client?.close().catch(() => undefined);
  }

  async #pollOnce(): Promise<PollReport> {
    const report: PollReport = { processed: [], failed: [], retry: [], acknowledgedFromLedger: [], messages: 0 };
    let client: FileSystemClient;
    let files: FileEntry[];
    try {
      client = await this.#connected();
      files = await this.#candidates(client);
    } catch (error) {
      await this.#disconnect();
      throw error;
    }
    const settled: Settled[] = [];
    let broken = false;
    try {
      for (const file of files) {
        // Stopping: the files read so far are still acknowledged below; the rest wait.
        if (this.#stopping) break;
        try {
          const done = await this.#readFile(client, file, report);
          if (done !== undefined) settled.push(done);
          if (settled.length >= ACK_BATCH) await this.#acknowledgeAll(client, settled.splice(0), report);
        } catch (error) {
          report.retry.push(file.path);
          this.#log("warn", `file ${file.path} on ${this.#options.location} left for the next poll: ${(error as Error).message}`);
          if (!isRemoteFileError(error) || error.code === "ERR_REMOTEFILE_TRANSFER_FAILED") {
            broken = true;
            break;
          }
        }
      }
    } finally {
      // Runs even when the connection broke: the ledger rows are written regardless, and the
      // acknowledgements that fail now are finished from the ledger at the next poll.
      await this.#acknowledgeAll(client, settled, report);
    }
    if (broken) await this.#disconnect();
    return report;
  }

  async #candidates(client: FileSystemClient): Promise<FileEntry[]> {
    const options = this.#options;
    const now = Date.now();
    const stableMs = options.stableMs ?? 1_000;
    const skip = new Set([options.moveToDirectory, options.errorDirectory].filter((d) => d !== undefined).map((d) => posix.normalize(d)));
    const found: FileEntry[] = [];
    const walk = async (directory: string, depth: number): Promise<void> => {
      for (const entry of await client.list(directory)) {
        try {
          assertSafeName(entry.name, "listed file name");
        } catch {
          this.#log("warn", `skipped an unsafe name listed in ${directory} on ${options.location}`);
          continue;
        }
        const path = joinInside(directory, entry.name);
        if (entry.type === "directory") {
          if (options.recursive === true && depth < MAX_DEPTH && !skip.has(path)) await walk(path, depth + 1);
        } else if (entry.type === "file" && options.matcher(entry.name) && now - entry.mtimeMs >= stableMs) {
          found.push({ ...entry, path });
        }
      }
    };
    await walk(options.directory, 0);
    return found.sort(compare(options.sortBy ?? "name")).slice(0, options.maxFilesPerPoll ?? 1_000);
  }

  #key(file: FileEntry): LedgerKey {
    return { location: `${this.#options.location}${file.path}`, size: file.size, mtimeMs: file.mtimeMs };
  }

  /** Reads one file and dispatches its messages; undefined when there is nothing to acknowledge. */
  async #readFile(client: FileSystemClient, file: FileEntry, report: PollReport): Promise<Settled | undefined> {
    const key = this.#key(file);
    const state = this.#ledger.state(key);
    if (state === "done") return undefined;
    if (state !== undefined) return { file, key, outcome: state, fromLedger: true };
    const fresh = await client.stat(file.path);
    if (fresh === undefined) return undefined;
    if (fresh.size !== file.size || fresh.mtimeMs !== file.mtimeMs) {
      throw new RemoteFileError("ERR_REMOTEFILE_FILE_CHANGED", `file ${file.path} changed since it was listed`);
    }
    try {
      const results = await this.#readAndDispatch(client, file);
      report.messages += results.length;
      return { file, key, outcome: results.some((r) => r.status === "ERROR") ? "failed" : "processed", fromLedger: false };
    } catch (error) {
      if (!isRemoteFileError(error) || error.code !== "ERR_REMOTEFILE_FILE_TOO_LARGE") throw error;
      this.#log("warn", error.message);
      return { file, key, outcome: "failed", fromLedger: false };
    }
  }

  /**
   * Acknowledges files whose messages are committed. One synced ledger transaction first
   * (group commit: one fsync for the batch, not one per file), then the deletes and moves,
   * then one transaction that forgets the acknowledged rows and marks the left ones done.
   */
  async #acknowledgeAll(client: FileSystemClient, settled: Settled[], report: PollReport): Promise<void> {
    if (settled.length === 0) return;
    this.#ledger.recordMany(settled.filter((s) => !s.fromLedger).map((s) => ({ key: s.key, state: s.outcome })));
    const forget: LedgerKey[] = [];
    const done: LedgerKey[] = [];
    for (const item of settled) {
      try {
        const action = await this.#acknowledge(client, item);
        (action === "leave" ? done : forget).push(item.key);
        (item.fromLedger ? report.acknowledgedFromLedger : item.outcome === "processed" ? report.processed : report.failed).push(item.file.path);
      } catch (error) {
        report.retry.push(item.file.path);
        this.#log("warn", `file ${item.file.path} on ${this.#options.location} is committed but not yet acknowledged; the next poll finishes it: ${(error as Error).message}`);
      }
    }
    this.#ledger.settle({ forget, done });
  }

  async #acknowledge(client: FileSystemClient, item: Settled): Promise<AfterProcessing> {
    const options = this.#options;
    const processed = item.outcome === "processed";
    const action = processed ? (options.afterProcessing ?? "delete") : (options.onError ?? "leave");
    const target = processed ? options.moveToDirectory : options.errorDirectory;
    if (action === "delete") await client.delete(item.file.path);
    if (action === "move") {
      await client.mkdir(target!);
      await client.rename(item.file.path, posix.join(target!, item.file.name));
    }
    return action;
  }

  /** Streams the file into messages and dispatches them in order, up to IN_FLIGHT awaiting commit together. */
  async #readAndDispatch(client: FileSystemClient, file: FileEntry): Promise<DispatchResult[]> {
    const options = this.#options;
    const split = options.split ?? "file";
    const maxFileBytes = options.maxFileBytes ?? 256 * 1024 * 1024;
    if (split === "file" && file.size > maxFileBytes) {
      throw new RemoteFileError("ERR_REMOTEFILE_FILE_TOO_LARGE", `file ${file.path} is ${file.size} bytes, over maxFileBytes (${maxFileBytes}); not read`, {
        details: { size: file.size, maxFileBytes },
      });
    }
    const sourceMap = {
      originalFilename: file.name,
      fileDirectory: posix.dirname(file.path),
      fileSize: file.size,
      fileLastModified: file.mtimeMs,
    };
    const pending: Promise<DispatchResult>[] = [];
    const results: DispatchResult[] = [];
    const send = async (content: string | Buffer) => {
      pending.push(options.dispatch({ content, sourceMap }));
      if (pending.length >= IN_FLIGHT) results.push(await pending.shift()!);
    };
    const settleAll = async () => {
      // Every dispatch is awaited, even after one fails, so none is left unobserved.
      const settled = await Promise.allSettled(pending.splice(0));
      for (const s of settled) {
        if (s.status === "rejected") throw transferError("dispatching a message to the channel", s.reason);
        results.push(s.value);
      }
    };
    const stream = client.createReadStream(file.path);
    let bytes = 0;
    try {
      if (split === "file") {
        const chunks: Buffer[] = [];
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          if (bytes > maxFileBytes) throw new RemoteFileError("ERR_REMOTEFILE_FILE_TOO_LARGE", `file ${file.path} grew over maxFileBytes (${maxFileBytes}) while read`);
          chunks.push(chunk);
        }
        const whole = Buffer.concat(chunks, bytes);
        await this.#assertUnchanged(client, file, bytes);
        if (options.content === "binary") await send(whole);
        else {
          const decoder = new StringDecoder(options.charset ?? "utf8");
          await send(decoder.write(whole) + decoder.end());
        }
      } else {
        const splitter = new MessageSplitter({ mode: split, charset: options.charset ?? "utf8" });
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          bytes += chunk.length;
          for (const message of splitter.push(chunk)) await send(message);
        }
        for (const message of splitter.end()) await send(message);
      }
    } catch (error) {
      stream.destroy();
      await Promise.allSettled(pending);
      throw transferError("reading a file", error);
    }
    await settleAll();
    return results;
  }

  async #assertUnchanged(client: FileSystemClient, file: FileEntry, bytes: number): Promise<void> {
    const after = await client.stat(file.path);
    if (bytes !== file.size || after === undefined || after.size !== file.size || after.mtimeMs !== file.mtimeMs) {
      throw new RemoteFileError("ERR_REMOTEFILE_FILE_CHANGED", `file ${file.path} changed while it was read; it will be read again`, {
        details: { listedSize: file.size, readBytes: bytes },
      });
    }
  }
}
