import { createHash, randomUUID } from "node:crypto";
import { open, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";

/** A received instance, complete on disk as a Part-10 file. */
export interface SpooledInstance {
  path: string;
  /** Size of the Part-10 file (meta header included). */
  bytes: number;
  /** SHA-256 of the Part-10 file, hex. */
  sha256: string;
}

/** What the spool pauses while the disk catches up: the association's socket. */
export interface SpoolPressure {
  pause(): void;
  resume(): void;
}

export interface InstanceSpoolOptions {
  directory: string;
  /** Part-10 preamble and file meta information, written before the dataset. */
  header: Buffer;
  maxBytes: number;
  pressure: SpoolPressure;
}

/** Above this much queued for the disk, the socket is paused (TCP then slows the peer). */
const PAUSE_ABOVE_BYTES = 4 * 1024 * 1024;

/**
 * The writable dcmjs-dimse fills with a C-STORE dataset, PDV by PDV. The library's default
 * keeps the whole dataset in memory; this streams it into a Part-10 file with the hash
 * computed on the way, pauses the socket when the disk falls behind (the library's own
 * drain handling covers only the first PDV), and fsyncs at the end so a stored message
 * never points at bytes the OS has not written.
 */
export class InstanceSpool extends Writable {
  readonly path: string;
  readonly #options: InstanceSpoolOptions;
  readonly #hash = createHash("sha256");
  #handle: FileHandle | undefined;
  #bytes = 0;
  #paused = false;
  #tooLarge = false;
  #result: Promise<SpooledInstance> | undefined;

  constructor(options: InstanceSpoolOptions) {
    super({ highWaterMark: PAUSE_ABOVE_BYTES });
    this.#options = options;
    this.path = join(options.directory, `.incoming-${randomUUID()}.dcm`);
  }

  /** True once the instance went past maxBytes; the rest of it was discarded. */
  get tooLarge(): boolean {
    return this.#tooLarge;
  }

  /** Resolves when the file is complete and synced; rejects (file removed) on any failure. */
  result(): Promise<SpooledInstance> {
    this.#result ??= new Promise<SpooledInstance>((resolve, reject) => {
      this.once("finish", () => resolve({ path: this.path, bytes: this.#bytes, sha256: this.#hash.digest("hex") }));
      this.once("error", reject);
    }).catch(async (error: unknown) => {
      await this.discard();
      throw error;
    });
    return this.#result;
  }

  /** Removes the file (a refused, failed or inlined instance). */
  async discard(): Promise<void> {
    await this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
    await rm(this.path, { force: true });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, "wx", 0o600)
      .then(async (handle) => {
        this.#handle = handle;
        await this.#append(this.#options.header);
        callback();
      })
      .catch((error: unknown) => callback(error as Error));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#checkPressure();
    if (this.#tooLarge || this.#bytes + chunk.length > this.#options.maxBytes) {
      this.#tooLarge = true;
      callback();
      return;
    }
    this.#append(chunk).then(
      () => {
        callback();
        process.nextTick(() => this.#checkPressure());
      },
      (error: unknown) => callback(error as Error),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    const handle = this.#handle;
    if (handle === undefined) {
      callback(new Error("spool file was not opened"));
      return;
    }
    this.#handle = undefined;
    handle
      .datasync()
      .then(() => handle.close())
      .then(
        () => {
          this.#resume();
          callback();
        },
        (error: unknown) => callback(error as Error),
      );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#resume();
    callback(error);
  }

  async #append(bytes: Buffer): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) throw new Error("spool file is closed");
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
      written += bytesWritten;
    }
    this.#hash.update(bytes);
    this.#bytes += bytes.length;
  }

  #checkPressure(): void {
    if (!this.#paused && this.writableLength > PAUSE_ABOVE_BYTES) {
      this.#paused = true;
      this.#options.pressure.pause();
    } else if (this.#paused && this.writableLength <= PAUSE_ABOVE_BYTES / 2) {
      this.#resume();
    }
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#options.pressure.resume();
  }
}
