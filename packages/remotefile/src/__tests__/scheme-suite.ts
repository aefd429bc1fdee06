import { posix } from "node:path";
import { expect, it } from "vitest";
import type { FileSystemConnector } from "../file-system-client.js";
import { FileWriter } from "../file-writer.js";
import { collectGarbage, collectingDispatch, faultyConnector, outbound, patternStream, readAll, reader, sha256Of, writeThrough } from "./harness.js";

export interface SchemeFixture {
  connect: FileSystemConnector;
  /** A fresh empty directory on the scheme, as the client names it. */
  freshDir: () => Promise<string>;
  /** A local directory for ledgers. */
  ledgerDir: string;
}

/**
 * The reader/writer behaviour every scheme must show against its real server: round trips of
 * several sizes (100 MB streamed), after-processing actions, error directory, ledger, and a
 * crash between commit and acknowledge.
 */
export function schemeSuite(fixture: () => SchemeFixture): void {
  it("writes with templates and reads back text and binary files of several sizes", async () => {
    const { connect, freshDir, ledgerDir } = fixture();
    const dir = await freshDir();
    const writer = new FileWriter({ connect, location: "test://", directory: `${dir}/in`, fileName: "${originalFilename}" });
    const binaryWriter = new FileWriter({ connect, location: "test://", directory: `${dir}/in`, fileName: "${message.messageId}.bin", content: "binary" });
    const sizes = [0, 1, 1024, 1024 * 1024 + 3];
    const texts = sizes.map((size, i) => `MSH|^~\\&|é${"x".repeat(size)}|${i}`);
    try {
      for (const [i, text] of texts.entries()) await writer.write(outbound(text, { originalFilename: `t${i}.hl7` }));
      const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256));
      await binaryWriter.write(outbound(bytes.toString("base64"), {}, 42));
    } finally {
      await writer.close();
      await binaryWriter.close();
    }
    const text = collectingDispatch();
    const textReader = reader({ connect, directory: `${dir}/in`, dispatch: text.dispatch, ledgerPath: posix.join(ledgerDir, `${Date.now()}-a.sqlite`), matcher: (n) => n.endsWith(".hl7") });
    const report = await textReader.poll();
    await textReader.stop();
    expect(report.processed).toHaveLength(texts.length);
    expect(text.received.map((m) => m.content)).toEqual(texts);
    expect(text.received[0]!.sourceMap).toMatchObject({ originalFilename: "t0.hl7", fileSize: Buffer.byteLength(texts[0]!) });
    const binary = collectingDispatch();
    const binaryReader = reader({ connect, directory: `${dir}/in`, dispatch: binary.dispatch, ledgerPath: posix.join(ledgerDir, `${Date.now()}-b.sqlite`), content: "binary" });
    await binaryReader.poll();
    await binaryReader.stop();
    expect(binary.received).toHaveLength(1);
    expect(Buffer.isBuffer(binary.received[0]!.content)).toBe(true);
    expect((binary.received[0]!.content as Buffer).equals(Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 256)))).toBe(true);
    // Deleted after processing (the default).
    const client = await connect();
    try {
      expect(await client.list(`${dir}/in`)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it("streams a 100 MB file up and down without holding it in memory", { timeout: 180_000 }, async () => {
    const { connect, freshDir } = fixture();
    const dir = await freshDir();
    const size = 100 * 1024 * 1024;
    const client = await connect();
    try {
      const expected = await sha256Of(patternStream(size, 9));
      collectGarbage();
      const before = process.memoryUsage();
      let peak = 0;
      const sampler = setInterval(() => {
        collectGarbage();
        const now = process.memoryUsage();
        peak = Math.max(peak, now.arrayBuffers + now.heapUsed - before.arrayBuffers - before.heapUsed);
      }, 50);
      try {
        await writeThrough(client, `${dir}/big.bin`, patternStream(size, 9));
        expect((await client.stat(`${dir}/big.bin`))?.size).toBe(size);
        const actual = await sha256Of(client.createReadStream(`${dir}/big.bin`));
        expect(actual).toEqual(expected);
      } finally {
        clearInterval(sampler);
      }
      // Streamed: live memory grows by a few windows of chunks; holding the file whole would
      // add at least 100 MB.
      expect(peak).toBeLessThan(32 * 1024 * 1024);
    } finally {
      await client.close();
    }
  });

  it("moves processed files, moves failures to the error directory, and never reads a left file twice", async () => {
    const { connect, freshDir, ledgerDir } = fixture();
    const dir = await freshDir();
    const client = await connect();
    try {
      await writeThrough(client, `${dir}/a.txt`, "line one\nline two\r\n\nline three");
      await writeThrough(client, `${dir}/big.txt`, "x".repeat(5000));
      const got = collectingDispatch();
      const moving = reader({
        connect, directory: dir, dispatch: got.dispatch, ledgerPath: posix.join(ledgerDir, `${Date.now()}-m.sqlite`),
        split: "lines", maxFileBytes: 4096, afterProcessing: "move", moveToDirectory: `${dir}/done`, onError: "move", errorDirectory: `${dir}/error`,
      });
      const report = await moving.poll();
      await moving.stop();
      expect(got.received.map((m) => m.content)).toEqual(["line one", "line two", "line three", "x".repeat(5000)]);
      expect(report.processed).toEqual([`${dir}/a.txt`, `${dir}/big.txt`]);
      expect((await client.list(`${dir}/done`)).map((e) => e.name).sort()).toEqual(["a.txt", "big.txt"]);

      await writeThrough(client, `${dir}/huge.txt`, "y".repeat(5000));
      const whole = collectingDispatch();
      const tooLarge = reader({
        connect, directory: dir, dispatch: whole.dispatch, ledgerPath: posix.join(ledgerDir, `${Date.now()}-e.sqlite`),
        maxFileBytes: 4096, onError: "move", errorDirectory: `${dir}/error`,
      });
      const failed = await tooLarge.poll();
      await tooLarge.stop();
      expect(failed.failed).toEqual([`${dir}/huge.txt`]);
      expect(whole.received).toEqual([]);
      expect((await client.list(`${dir}/error`)).map((e) => e.name)).toEqual(["huge.txt"]);

      await writeThrough(client, `${dir}/keep.txt`, "stay");
      const leftLedger = posix.join(ledgerDir, `${Date.now()}-l.sqlite`);
      const seen = collectingDispatch();
      for (let round = 0; round < 2; round++) {
        // A new reader each round: the ledger, not memory, remembers.
        const leaving = reader({ connect, directory: dir, dispatch: seen.dispatch, ledgerPath: leftLedger, afterProcessing: "leave" });
        await leaving.poll();
        await leaving.stop();
      }
      expect(seen.received.map((m) => m.content)).toEqual(["stay"]);
      expect(await client.stat(`${dir}/keep.txt`)).toBeDefined();
    } finally {
      await client.close();
    }
  });

  it("a crash between commit and acknowledge finishes the acknowledge on restart without reading again", async () => {
    const { connect, freshDir, ledgerDir } = fixture();
    const dir = await freshDir();
    const ledgerPath = posix.join(ledgerDir, `${Date.now()}-c.sqlite`);
    const client = await connect();
    try {
      await writeThrough(client, `${dir}/one.hl7`, "MSH|^~\\&|A\rPID|1\r");
      const got = collectingDispatch();
      const crashing = reader({ connect: faultyConnector(connect, { failDeletesAndRenames: 1 }), directory: dir, dispatch: got.dispatch, ledgerPath });
      const first = await crashing.poll();
      await crashing.stop();
      expect(first.retry).toEqual([`${dir}/one.hl7`]);
      expect(got.received).toHaveLength(1);
      expect(await client.stat(`${dir}/one.hl7`)).toBeDefined();

      const restarted = reader({ connect, directory: dir, dispatch: got.dispatch, ledgerPath });
      const second = await restarted.poll();
      await restarted.stop();
      expect(second.acknowledgedFromLedger).toEqual([`${dir}/one.hl7`]);
      expect(got.received).toHaveLength(1);
      expect(await client.stat(`${dir}/one.hl7`)).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it("a failed dispatch leaves the file unacknowledged and it is read again", async () => {
    const { connect, freshDir, ledgerDir } = fixture();
    const dir = await freshDir();
    const ledgerPath = posix.join(ledgerDir, `${Date.now()}-d.sqlite`);
    const client = await connect();
    try {
      await writeThrough(client, `${dir}/m.txt`, "hello");
      const refusing = reader({ connect, directory: dir, ledgerPath, dispatch: () => Promise.reject(new Error("channel stopped")) });
      const first = await refusing.poll();
      await refusing.stop();
      expect(first.retry).toEqual([`${dir}/m.txt`]);
      expect(await client.stat(`${dir}/m.txt`)).toBeDefined();
      const got = collectingDispatch();
      const again = reader({ connect, directory: dir, ledgerPath, dispatch: got.dispatch });
      await again.poll();
      await again.stop();
      expect(got.received.map((m) => m.content)).toEqual(["hello"]);
    } finally {
      await client.close();
    }
  });

  it("refuses traversal in file names from templates and source maps, writing nothing", async () => {
    const { connect, freshDir } = fixture();
    const dir = await freshDir();
    const writer = new FileWriter({ connect, location: "test://", directory: `${dir}/out`, fileName: "${originalFilename}" });
    const traversing = new FileWriter({ connect, location: "test://", directory: `${dir}/out/\${channelMap.sub}`, fileName: "x" });
    try {
      for (const name of ["../escape.txt", "a/../../b", "/etc/passwd", "nul\0.txt", ".."]) {
        await expect(writer.write(outbound("x", { originalFilename: name }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_UNSAFE_PATH" });
      }
      const message = { ...outbound("x"), channelMap: new Map([["sub", "../.."]]) };
      await expect(traversing.write(message)).rejects.toMatchObject({ code: "ERR_REMOTEFILE_UNSAFE_PATH" });
    } finally {
      await writer.close();
      await traversing.close();
    }
    const client = await connect();
    try {
      expect(await client.stat(`${dir}/escape.txt`)).toBeUndefined();
      expect(await client.stat(`${dir}/out`)).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it("appends, overwrites, or refuses an existing file, and leaves no temp file behind", async () => {
    const { connect, freshDir } = fixture();
    const dir = await freshDir();
    const make = (fileExists: "append" | "overwrite" | "error") =>
      new FileWriter({ connect, location: "test://", directory: dir, fileName: "out.txt", fileExists, tempFile: fileExists !== "append" });
    const writers = [make("overwrite"), make("append"), make("error")];
    try {
      await writers[0]!.write(outbound("one"));
      await writers[0]!.write(outbound("two"));
      await writers[1]!.write(outbound("+three"));
      await expect(writers[2]!.write(outbound("four"))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_FILE_EXISTS" });
    } finally {
      for (const w of writers) await w.close();
    }
    const client = await connect();
    try {
      expect((await readAll(client, `${dir}/out.txt`)).toString()).toBe("two+three");
      expect((await client.list(dir)).map((e) => e.name)).toEqual(["out.txt"]);
    } finally {
      await client.close();
    }
  });
}
