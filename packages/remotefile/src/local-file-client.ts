import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from "node:fs/promises";
import { basename, dirname, posix } from "node:path";
import { Writable, type Readable } from "node:stream";
import { transferError } from "./errors.js";
import type { FileEntry, FileSystemClient, WriteStreamOptions } from "./file-system-client.js";

function entryOf(path: string, stats: { isFile(): boolean; isDirectory(): boolean; size: number; mtimeMs: number }): FileEntry {
  return {
    name: basename(path),
    path,
    type: stats.isFile() ? "file" : stats.isDirectory() ? "directory" : "other",
    size: stats.size,
    mtimeMs: Math.floor(stats.mtimeMs),
  };
}

/** A file written through a handle and fsynced before `finish`: written means on disk. */
function durableWriteStream(path: string, flags: "a" | "w"): Writable {
  let handle: FileHandle | undefined;
  return new Writable({
    construct(callback) {
      open(path, flags, 0o640).then(
        (opened) => {
          handle = opened;
          callback();
        },
        (error: unknown) => callback(transferError("opening a file for writing", error)),
      );
    },
    write(chunk: Buffer, _encoding, callback) {
      handle!.write(chunk).then(
        () => callback(),
        (error: unknown) => callback(transferError("writing a file", error)),
      );
    },
    final(callback) {
      handle!.sync().then(
        () => callback(),
        (error: unknown) => callback(transferError("syncing a file", error)),
      );
    },
    destroy(error, callback) {
      const current = handle;
      handle = undefined;
      if (current === undefined) return callback(error);
      current.close().then(
        () => callback(error),
        () => callback(error),
      );
    },
  });
}

/** The local file system behind the FileSystemClient surface. Paths are absolute. */
export class LocalFileClient implements FileSystemClient {
  async list(directory: string): Promise<FileEntry[]> {
    try {
      const names = await readdir(directory);
      const entries: FileEntry[] = [];
      for (const name of names) {
        const path = posix.join(directory, name);
        try {
          entries.push(entryOf(path, await stat(path)));
        } catch (error) {
          // Gone between readdir and stat (another reader took it): not an error.
          if ((error as { code?: unknown }).code !== "ENOENT") throw error;
        }
      }
      return entries;
    } catch (error) {
      throw transferError("listing a directory", error);
    }
  }

  async stat(path: string): Promise<FileEntry | undefined> {
    try {
      return entryOf(path, await stat(path));
    } catch (error) {
      if ((error as { code?: unknown }).code === "ENOENT") return undefined;
      throw transferError("reading file attributes", error);
    }
  }

  createReadStream(path: string): Readable {
    const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
    return stream;
  }

  createWriteStream(path: string, options: WriteStreamOptions = {}): Writable {
    return durableWriteStream(path, options.append === true ? "a" : "w");
  }

  async rename(from: string, to: string): Promise<void> {
    try {
      await rename(from, to);
      // A rename is durable only once the directory entry is on disk.
      const directory = await open(dirname(to), "r");
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
    } catch (error) {
      throw transferError("renaming a file", error);
    }
  }

  async delete(path: string): Promise<void> {
    try {
      await unlink(path);
    } catch (error) {
      throw transferError("deleting a file", error);
    }
  }

  async mkdir(path: string): Promise<void> {
    try {
      await mkdir(path, { recursive: true, mode: 0o750 });
    } catch (error) {
      throw transferError("creating a directory", error);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
