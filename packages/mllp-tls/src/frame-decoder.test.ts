import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isMllpError, MllpFrameTooLargeError } from "./errors.js";
import { encodeFrame, FrameDecoder, parseFrameBytes, resolveFraming } from "./frame-decoder.js";

const VT = 0x0b;
const FS = 0x1c;
const CR = 0x0d;
const mllp = (text: string) => Buffer.concat([Buffer.from([VT]), Buffer.from(text, "latin1"), Buffer.from([FS, CR])]);
const texts = (frames: Buffer[]) => frames.map((frame) => frame.toString("latin1"));

/** Cuts `data` at the given offsets (any order, duplicates fine). */
function splitAt(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (data.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let previous = 0;
  for (const point of [...points, data.length]) {
    parts.push(data.subarray(previous, point));
    previous = point;
  }
  return parts;
}

function decodeAll(decoder: FrameDecoder, parts: Buffer[]): Buffer[] {
  return parts.flatMap((part) => decoder.push(part));
}

describe("resolveFraming", () => {
  it("defaults to MLLP 0x0B / 0x1C 0x0D, 64 MiB, lenient end", () => {
    const framing = resolveFraming();
    expect(framing).toMatchObject({ mode: "MLLP", maxFrameBytes: 64 * 1024 * 1024, lenientEnd: true });
    expect([...framing.start]).toEqual([VT]);
    expect([...framing.end]).toEqual([FS, CR]);
  });

  it("reads Mirth-style hex bytes", () => {
    expect([...parseFrameBytes("1C0D", "endBytes")]).toEqual([FS, CR]);
    expect([...parseFrameBytes("0x1C 0x0D", "endBytes")]).toEqual([FS, CR]);
    expect([...parseFrameBytes([2, 3], "endBytes")]).toEqual([2, 3]);
  });

  it("refuses bad framing with ERR_MLLP_INVALID_OPTIONS", () => {
    const bad = [
      () => resolveFraming({ mode: "FRAME" }),
      () => resolveFraming({ endBytes: "" }),
      () => resolveFraming({ endBytes: "1G" }),
      () => resolveFraming({ endBytes: "1C0" }),
      () => resolveFraming({ maxFrameBytes: 0 }),
      () => resolveFraming({ mode: "MLLP", startBytes: "" }),
      () => parseFrameBytes([256], "startBytes"),
    ];
    for (const attempt of bad) expect(attempt).toThrow(expect.objectContaining({ code: "ERR_MLLP_INVALID_OPTIONS" }));
  });
});

describe("FrameDecoder (MLLP)", () => {
  it("joins a frame split across reads, byte by byte", () => {
    const decoder = new FrameDecoder();
    const data = mllp("MSH|^~\\&|A\rPID|1\r");
    const frames = decodeAll(decoder, [...data].map((byte) => Buffer.from([byte])));
    expect(texts(frames)).toEqual(["MSH|^~\\&|A\rPID|1\r"]);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.inFrame).toBe(false);
  });

  it("returns every frame of one read, in order", () => {
    const decoder = new FrameDecoder();
    const data = Buffer.concat(["one", "two", "three", "four", "five"].map(mllp));
    expect(texts(decoder.push(data))).toEqual(["one", "two", "three", "four", "five"]);
    expect(decoder.frameCount).toBe(5);
  });

  it("discards and counts bytes before the start block", () => {
    const decoder = new FrameDecoder();
    const frames = decoder.push(Buffer.concat([Buffer.from("garbage\r\n"), mllp("A"), Buffer.from("xx"), mllp("B")]));
    expect(texts(frames)).toEqual(["A", "B"]);
    expect(decoder.discardedBytes).toBe(11);
  });

  it("accepts an end block without its trailing CR, and swallows a CR that comes later", () => {
    const decoder = new FrameDecoder();
    const noCr = Buffer.from([VT, 0x41, FS, VT, 0x42, FS]);
    expect(texts(decoder.push(noCr))).toEqual(["A", "B"]);
    expect(texts(decoder.push(Buffer.from([CR, VT, 0x43, FS, CR])))).toEqual(["C"]);
    expect(decoder.discardedBytes).toBe(0);
  });

  it("keeps a start byte inside a frame as data", () => {
    expect(texts(new FrameDecoder().push(mllp("a\u000bb")))).toEqual(["a\u000bb"]);
  });

  it("accepts a frame of exactly maxFrameBytes and refuses one byte more", () => {
    expect(texts(new FrameDecoder({ maxFrameBytes: 4 }).push(mllp("1234")))).toEqual(["1234"]);
    const decoder = new FrameDecoder({ maxFrameBytes: 4 });
    expect(() => decoder.push(mllp("12345"))).toThrow(MllpFrameTooLargeError);
    expect(() => decoder.push(mllp("1"))).toThrow(expect.objectContaining({ code: "ERR_MLLP_INVALID_OPTIONS" }));
  });

  it("refuses a never-ending frame as soon as it passes maxFrameBytes, not at its end", () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 1024 });
    decoder.push(Buffer.from([VT]));
    let error: unknown;
    try {
      for (let i = 0; i < 100; i++) decoder.push(Buffer.alloc(100, 0x41));
    } catch (caught) {
      error = caught;
    }
    expect(isMllpError(error) && error.code).toBe("ERR_MLLP_FRAME_TOO_LARGE");
  });

  it("reassembles a large frame from many small reads in linear time", () => {
    const payload = Buffer.alloc(8 * 1024 * 1024, 0x41);
    const decoder = new FrameDecoder();
    const started = performance.now();
    const reads = splitAt(payload, Array.from({ length: 8191 }, (_, i) => (i + 1) * 1024));
    const frames = decodeAll(decoder, [Buffer.from([VT]), ...reads, Buffer.from([FS, CR])]);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.equals(payload)).toBe(true);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("drops an unfinished frame on flush and reports its size", () => {
    const decoder = new FrameDecoder();
    decoder.push(Buffer.from([VT, 0x41, 0x42]));
    expect(decoder.inFrame).toBe(true);
    expect(decoder.flush()).toEqual({ frame: undefined, droppedBytes: 3 });
    expect(texts(decoder.push(mllp("C")))).toEqual(["C"]);
  });
});

describe("FrameDecoder (FRAME and RAW)", () => {
  it("finds multi-byte blocks split across reads", () => {
    const decoder = new FrameDecoder({ mode: "FRAME", startBytes: "0203", endBytes: "0405" });
    const data = Buffer.from([0x02, 0x03, 0x41, 0x04, 0x42, 0x04, 0x05, 0x02, 0x03, 0x43, 0x04, 0x05]);
    expect(texts(decodeAll(decoder, [...data].map((b) => Buffer.from([b]))))).toEqual(["A\u0004B", "C"]);
  });

  it("with an empty start block, frames follow each other directly", () => {
    const decoder = new FrameDecoder({ mode: "FRAME", startBytes: "", endBytes: "0A" });
    expect(texts(decoder.push(Buffer.from("one\ntwo\nthr")))).toEqual(["one", "two"]);
    expect(decoder.inFrame).toBe(true);
    expect(texts(decoder.push(Buffer.from("ee\n")))).toEqual(["three"]);
  });

  it("RAW holds everything until flush", () => {
    const decoder = new FrameDecoder({ mode: "RAW" });
    expect(decoder.push(Buffer.from("MSH|a"))).toEqual([]);
    expect(decoder.push(Buffer.from("\rPID|1"))).toEqual([]);
    expect(decoder.flush().frame?.toString()).toBe("MSH|a\rPID|1");
    expect(decoder.flush().frame).toBeUndefined();
  });

  it("RAW refuses more than maxFrameBytes", () => {
    const decoder = new FrameDecoder({ mode: "RAW", maxFrameBytes: 3 });
    expect(() => decoder.push(Buffer.from("abcd"))).toThrow(MllpFrameTooLargeError);
  });

  it("encodeFrame wraps in the configured blocks", () => {
    expect([...encodeFrame("A", resolveFraming())]).toEqual([VT, 0x41, FS, CR]);
    expect(encodeFrame("A", resolveFraming({ mode: "RAW" })).toString()).toBe("A");
  });
});

describe("FrameDecoder properties", () => {
  const payload = fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== FS)));
  const garbage = fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes.filter((b) => b !== VT && b !== CR)));

  it("random splits of random MLLP frame sequences decode to the same frames", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ before: garbage, body: payload, cr: fc.boolean() }), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, cuts) => {
          const stream = Buffer.concat(
            frames.flatMap(({ before, body, cr }) => [before, Buffer.from([VT]), body, Buffer.from(cr ? [FS, CR] : [FS])]),
          );
          const decoder = new FrameDecoder();
          const decoded = decodeAll(decoder, splitAt(stream, cuts));
          expect(decoded.map((b) => b.toString("hex"))).toEqual(frames.map(({ body }) => body.toString("hex")));
          expect(decoder.discardedBytes).toBe(frames.reduce((sum, { before }) => sum + before.length, 0));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("random splits of FRAME streams with random blocks decode to the same frames", () => {
    const block = fc.uint8Array({ minLength: 1, maxLength: 4 }).map((b) => Buffer.from(b));
    fc.assert(
      fc.property(
        fc.record({ start: block, end: block }),
        fc.array(fc.record({ before: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)), body: fc.uint8Array({ maxLength: 60 }).map((b) => Buffer.from(b)) }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        ({ start, end }, frames, cuts) => {
          // Only streams that say what they mean: the first start/end found is the intended one.
          const usable = frames.filter(
            ({ before, body }) =>
              Buffer.concat([before, start]).indexOf(start) === before.length &&
              Buffer.concat([body, end]).indexOf(end) === body.length,
          );
          const stream = Buffer.concat(usable.flatMap(({ before, body }) => [before, start, body, end]));
          const decoder = new FrameDecoder({ mode: "FRAME", startBytes: start, endBytes: end });
          const decoded = decodeAll(decoder, splitAt(stream, cuts));
          expect(decoded.map((b) => b.toString("hex"))).toEqual(usable.map(({ body }) => body.toString("hex")));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("fuzz: arbitrary bytes in arbitrary reads never crash or hang the decoder", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.constantFrom<"MLLP" | "FRAME" | "RAW">("MLLP", "FRAME", "RAW"),
        (reads, mode) => {
          const decoder = new FrameDecoder(
            mode === "FRAME" ? { mode, startBytes: "0B0B", endBytes: "1C1C0D", maxFrameBytes: 256 } : { mode, maxFrameBytes: 256 },
          );
          let emitted = 0;
          try {
            for (const read of reads) {
              for (const frame of decoder.push(Buffer.from(read))) {
                expect(frame.length).toBeLessThanOrEqual(256);
                emitted += frame.length;
              }
            }
            decoder.flush();
          } catch (error) {
            expect(error).toBeInstanceOf(MllpFrameTooLargeError);
          }
          const total = reads.reduce((sum, read) => sum + read.length, 0);
          expect(emitted + decoder.discardedBytes).toBeLessThanOrEqual(total);
        },
      ),
      { numRuns: 500 },
    );
  });
});
