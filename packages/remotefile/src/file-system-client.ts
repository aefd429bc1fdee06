import type { Readable, Writable } from "node:stream";

/** One directory entry, as every scheme reports it. */
export interface FileEntry {
  /** The last path segment. */
  name: string;
  /** Full path on the file system or server (POSIX separators). */
  path: string;
  type: "file" | "directory" | "other";
  size: number;
  /** Modification time in ms since the epoch; 0 when the server does not say. */
  mtimeMs: number;
}

export interface WriteStreamOptions {
  /** Append to an existing file instead of replacing it. */
  append?: boolean;
}

/**
 * The small surface the reader and writer need from a file system, local or remote. Paths
 * are full POSIX paths. Implementations map their failures to ERR_REMOTEFILE_TRANSFER_FAILED.
 */
export interface FileSystemClient {
  /** False once a remote connection is known to be gone; the reader and writer then reconnect. */
  readonly connected?: boolean;
  /** Entries of one directory (not recursive). */
  list(directory: string): Promise<FileEntry[]>;
  /** The entry at `path`, or undefined when nothing is there. */
  stat(path: string): Promise<FileEntry | undefined>;
  /**
   * The file's bytes, streamed. The stream ends only once the transfer is known complete
   * (for FTP, the server's 226); a dropped connection destroys it with an error.
   */
  createReadStream(path: string): Readable;
  /**
   * Writes a file. `finish` is emitted only once the server (or the kernel, for local files,
   * after fsync) has the whole file; a failure destroys the stream with an error.
   */
  createWriteStream(path: string, options?: WriteStreamOptions): Writable;
  /** Renames, replacing an existing target where the scheme allows it atomically. */
  rename(from: string, to: string): Promise<void>;
  delete(path: string): Promise<void>;
  /** Creates the directory and its missing parents; an existing directory is fine. */
  mkdir(path: string): Promise<void>;
  /** Ends the connection; idempotent. */
  close(): Promise<void>;
}

/** Opens a client; the reader and writer call it again after a connection is lost. */
export type FileSystemConnector = () => Promise<FileSystemClient>;
