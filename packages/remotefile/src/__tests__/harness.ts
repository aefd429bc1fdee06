import { createHash } from "node:crypto";
import { join } from "node:path";
import { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { pipeline } from "node:stream/promises";
import type { DispatchResult, OutboundMessage, RawMessage } from "@node-mirth/core";
import type { FileSystemClient, FileSystemConnector } from "../file-system-client.js";
import { createFileNameMatcher } from "../file-filter.js";
import { FileReader, type FileReaderOptions } from "../file-reader.js";

/** A dispatch that "commits" by remembering, numbering messages like the engine. */
export function collectingDispatch(): { dispatch: (raw: RawMessage) => Promise<DispatchResult>; received: RawMessage[] } {
  const received: RawMessage[] = [];
  return {
    received,
    dispatch: (raw) => {
      received.push(raw);
      return Promise.resolve({ messageId: received.length, status: "RECEIVED" });
    },
  };
}

export function reader(options: Partial<FileReaderOptions> & Pick<FileReaderOptions, "connect" | "directory" | "dispatch" | "ledgerPath">): FileReader {
  return new FileReader({ location: "test://", matcher: createFileNameMatcher("*", false), stableMs: 0, ...options });
}

export function outbound(content: string, sourceMap: Record<string, unknown> = {}, messageId = 7): OutboundMessage {
  return { channelId: "c1", messageId, destinationId: "d1", content, dataType: "RAW", channelMap: new Map(), sourceMap: new Map(Object.entries(sourceMap)) };
}

/** Deterministic pseudo-random bytes, generated in 1 MiB pieces: never held whole. */
export function patternStream(totalBytes: number, seed = 1): Readable {
  return Readable.from(
    (function* () {
      let state = seed;
      const piece = Buffer.alloc(1024 * 1024);
      for (let sent = 0; sent < totalBytes; sent += piece.length) {
        for (let i = 0; i < piece.length; i += 4) {
          state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
          piece.writeUInt32LE(state, i);
        }
        yield Buffer.from(piece.subarray(0, Math.min(piece.length, totalBytes - sent)));
      }
    })(),
  );
}

export async function sha256Of(stream: Readable): Promise<{ hash: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    hash.update(chunk);
  }
  return { hash: hash.digest("hex"), bytes };
}

export async function writeThrough(client: FileSystemClient, path: string, body: Readable | Buffer | string): Promise<void> {
  const source = typeof body === "string" || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
  await pipeline(source, client.createWriteStream(path));
}

export async function readAll(client: FileSystemClient, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of client.createReadStream(path) as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Wraps a connector so a test can break one operation (a crash between commit and acknowledge). */
export function faultyConnector(connect: FileSystemConnector, fault: { failDeletesAndRenames: number }): FileSystemConnector {
  return async () => {
    const client = await connect();
    const fail = () => {
      if (fault.failDeletesAndRenames <= 0) return false;
      fault.failDeletesAndRenames--;
      return true;
    };
    return {
      list: (d) => client.list(d),
      stat: (p) => client.stat(p),
      createReadStream: (p) => client.createReadStream(p),
      createWriteStream: (p, o) => client.createWriteStream(p, o),
      mkdir: (p) => client.mkdir(p),
      close: () => client.close(),
      delete: (p) => (fail() ? Promise.reject(new Error("simulated crash before delete")) : client.delete(p)),
      rename: (a, b) => (fail() ? Promise.reject(new Error("simulated crash before rename")) : client.rename(a, b)),
    };
  };
}

export const ledgerIn = (dir: string) => join(dir, "ledger.sqlite");

/**
 * V8's gc(), to sample live memory rather than garbage. node:vm only fetches the function
 * here; it runs no user code.
 */
export function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}
