import { Readable, Writable } from "node:stream";
import type { SFTPWrapper } from "ssh2";
import { transferError } from "./errors.js";

/** Requests kept in flight: a window of WINDOW x CHUNK bytes hides the round trip, as OpenSSH's sftp does. */
const WINDOW = 16;
const CHUNK = 64 * 1024;

interface Slot {
  offset: number;
  remaining: number;
  data: Buffer[];
  done: boolean;
  eof: boolean;
}

type HandleCallback = (error: Error | null | undefined, handle: Buffer) => void;

/**
 * Reads a remote file with up to WINDOW read requests in flight and delivers the bytes in
 * order. A short read asks again for the rest of its slot; a read of zero bytes is the end.
 */
export function sftpReadStream(sftp: SFTPWrapper, path: string): Readable {
  let handle: Buffer | undefined;
  let next = 0;
  let eofSeen = false;
  const slots: Slot[] = [];
  let closing = false;

  const stream = new Readable({
    highWaterMark: WINDOW * CHUNK,
    construct(callback) {
      sftp.open(path, "r", ((error, opened) => {
        if (error) return callback(transferError("opening a file for reading", error));
        handle = opened;
        callback();
      }) as HandleCallback);
    },
    read() {
      pump();
    },
    destroy(error, callback) {
      closing = true;
      if (handle === undefined) return callback(error);
      const h = handle;
      handle = undefined;
      sftp.close(h, () => callback(error));
    },
  });

  function issue(slot: Slot): void {
    if (handle === undefined) return;
    const buffer = Buffer.allocUnsafe(slot.remaining);
    sftp.read(handle, buffer, 0, slot.remaining, slot.offset, (error, bytesRead) => {
      if (closing) return;
      if (error) {
        stream.destroy(transferError("reading a file", error));
        return;
      }
      if (bytesRead === 0) {
        slot.done = true;
        slot.eof = true;
        eofSeen = true;
      } else {
        slot.data.push(buffer.subarray(0, bytesRead));
        slot.offset += bytesRead;
        slot.remaining -= bytesRead;
        if (slot.remaining === 0) slot.done = true;
        else return issue(slot);
      }
      flush();
    });
  }

  function flush(): void {
    let wantMore = true;
    while (slots.length > 0 && slots[0]!.done) {
      const slot = slots.shift()!;
      for (const piece of slot.data) wantMore = stream.push(piece);
      if (slot.eof) {
        // Every byte before the end has been pushed; later slots can only be empty.
        slots.length = 0;
        stream.push(null);
        return;
      }
    }
    if (wantMore) pump();
  }

  function pump(): void {
    while (!eofSeen && !closing && slots.length < WINDOW && handle !== undefined) {
      const slot: Slot = { offset: next, remaining: CHUNK, data: [], done: false, eof: false };
      next += CHUNK;
      slots.push(slot);
      issue(slot);
    }
  }

  return stream;
}

/**
 * Writes a remote file with up to WINDOW write requests in flight. `finish` comes after
 * every write is acknowledged, fsync@openssh.com (where offered) and the handle is closed:
 * then the server has the whole file on disk.
 */
export function sftpWriteStream(sftp: SFTPWrapper, request: { path: string; append: boolean }): Writable {
  let handle: Buffer | undefined;
  let position = 0;
  let inFlight = 0;
  let failure: Error | undefined;
  let waiting: (() => void) | undefined;

  const settle = () => {
    const wake = waiting;
    waiting = undefined;
    wake?.();
  };

  const closeHandle = (callback: (error?: Error | null) => void) => {
    const h = handle;
    handle = undefined;
    if (h === undefined) return callback();
    sftp.close(h, (error) => callback(error ? transferError("closing a written file", error) : null));
  };

  return new Writable({
    highWaterMark: WINDOW * CHUNK,
    construct(callback) {
      sftp.open(request.path, request.append ? "a" : "w", { mode: 0o640 }, ((error, opened) => {
        if (error) return callback(transferError("opening a file for writing", error));
        handle = opened;
        if (!request.append) return callback();
        // Offsets are explicit in SFTP: appending starts at the current size.
        sftp.fstat(opened, (statError, stats) => {
          if (statError) return callback(transferError("reading file attributes", statError));
          position = stats.size;
          callback();
        });
      }) as HandleCallback);
    },
    write(chunk: Buffer, _encoding, callback) {
      let offset = 0;
      const sendNext = () => {
        if (failure !== undefined) return callback(failure);
        while (offset < chunk.length && inFlight < WINDOW) {
          const length = Math.min(CHUNK, chunk.length - offset);
          inFlight++;
          sftp.write(handle!, chunk, offset, length, position, (error) => {
            inFlight--;
            if (error && failure === undefined) failure = transferError("writing a file", error);
            settle();
          });
          offset += length;
          position += length;
        }
        if (offset < chunk.length) {
          waiting = sendNext;
          return;
        }
        callback();
      };
      sendNext();
    },
    final(callback) {
      const finish = () => {
        if (inFlight > 0) {
          waiting = finish;
          return;
        }
        if (failure !== undefined) return callback(failure);
        const sync = (done: () => void) => {
          try {
            sftp.ext_openssh_fsync(handle!, (error) => {
              if (error && failure === undefined) failure = transferError("syncing a written file", error);
              done();
            });
          } catch {
            // The server does not offer fsync@openssh.com: close is the best it gives.
            done();
          }
        };
        sync(() => {
          if (failure !== undefined) return callback(failure);
          closeHandle(callback);
        });
      };
      finish();
    },
    destroy(error, callback) {
      closeHandle(() => callback(error));
    },
  });
}
