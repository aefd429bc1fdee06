import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readPart10Meta, writePart10Meta } from "./part10.js";

const uid = fc
  .array(fc.integer({ min: 1, max: 99_999 }), { minLength: 2, maxLength: 12 })
  .map((parts) => parts.join("."))
  .filter((value) => value.length <= 64);
const aeTitle = fc.stringMatching(/^[A-Z0-9_]{1,16}$/);

describe("Part-10 file meta information", () => {
  it("reads back what it writes, and the dataset starts right after the meta group", () => {
    fc.assert(
      fc.property(fc.record({ sopClassUid: uid, sopInstanceUid: uid, transferSyntaxUid: uid, sourceAeTitle: fc.option(aeTitle, { nil: undefined }), dataset: fc.uint8Array({ maxLength: 64 }) }), ({ sopClassUid, sopInstanceUid, transferSyntaxUid, sourceAeTitle, dataset }) => {
        const meta = writePart10Meta({
          sopClassUid,
          sopInstanceUid,
          transferSyntaxUid,
          implementationClassUid: "1.2.3.4",
          implementationVersionName: "NODE_MIRTH",
          ...(sourceAeTitle === undefined ? {} : { sourceAeTitle }),
        });
        const file = Buffer.concat([meta, Buffer.from(dataset)]);
        const read = readPart10Meta(file);
        expect(read).toMatchObject({ sopClassUid, sopInstanceUid, transferSyntaxUid, datasetOffset: meta.length, implementationClassUid: "1.2.3.4" });
        expect(read.sourceAeTitle).toBe(sourceAeTitle);
        expect(file.subarray(read.datasetOffset)).toEqual(Buffer.from(dataset));
      }),
    );
  });

  it("refuses bytes without the DICM prefix, and meta groups cut before the transfer syntax ends, with a typed error", () => {
    expect(() => readPart10Meta(Buffer.from("MSH|^~\\&|"))).toThrow(expect.objectContaining({ code: "ERR_DICOM_INVALID_PART10" }));
    const meta = writePart10Meta({ sopClassUid: "1.2", sopInstanceUid: "1.3", transferSyntaxUid: "1.2.840.10008.1.2.1", implementationClassUid: "1.4" });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: meta.indexOf("1.2.840.10008.1.2.1") + 18 }), (cut) => {
        expect(() => readPart10Meta(meta.subarray(0, cut))).toThrow(expect.objectContaining({ code: "ERR_DICOM_INVALID_PART10" }));
      }),
    );
  });

  it("never throws anything but its typed error on arbitrary bytes after the prefix", () => {
    const prefix = Buffer.concat([Buffer.alloc(128), Buffer.from("DICM")]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (tail) => {
        try {
          readPart10Meta(Buffer.concat([prefix, Buffer.from(tail)]));
        } catch (error) {
          expect((error as { code?: string }).code).toBe("ERR_DICOM_INVALID_PART10");
        }
      }),
    );
  });
});
