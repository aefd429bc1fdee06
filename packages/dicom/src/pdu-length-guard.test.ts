import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PduLengthGuard } from "./pdu-length-guard.js";

function pdu(type: number, length: number): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(length, 2);
  return Buffer.concat([header, Buffer.alloc(length, 0x55)]);
}

/** Splits bytes at the given cut points. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(last, point));
    last = point;
  }
  return chunks;
}

describe("PduLengthGuard", () => {
  it("passes PDUs within the limits however the stream is chunked", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.constantFrom(1, 4, 5, 6, 7), length: fc.integer({ min: 0, max: 512 }) }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (pdus, cuts) => {
          const guard = new PduLengthGuard(512);
          const stream = Buffer.concat(pdus.map(({ type, length }) => pdu(type, length)));
          for (const chunk of chunked(stream, cuts)) expect(guard.feed(chunk)).toBeUndefined();
        },
      ),
    );
  });

  it("reports a P-DATA PDU longer than maxPduLength as soon as its header is complete", () => {
    fc.assert(
      fc.property(fc.integer({ min: 513, max: 0xffffffff }), fc.integer({ min: 1, max: 5 }), (length, split) => {
        const guard = new PduLengthGuard(512);
        expect(guard.feed(pdu(4, 10))).toBeUndefined();
        const header = pdu(4, 0).subarray(0, 6);
        header.writeUInt32BE(length, 2);
        expect(guard.feed(header.subarray(0, split))).toBeUndefined();
        expect(guard.feed(header.subarray(split))).toEqual({ type: 4, length, limit: 512 });
      }),
    );
  });

  it("caps control PDUs (association requests) at 64 KiB whatever maxPduLength says", () => {
    const guard = new PduLengthGuard(1 << 24);
    const header = Buffer.from([1, 0, 0, 0x02, 0, 0]);
    expect(guard.feed(header)).toEqual({ type: 1, length: 0x20000, limit: 65536 });
  });
});
