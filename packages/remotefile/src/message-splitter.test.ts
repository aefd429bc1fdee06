import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createFileNameMatcher } from "./file-filter.js";
import { MessageSplitter } from "./message-splitter.js";

function splitInChunks(splitter: MessageSplitter, bytes: Buffer, cuts: number[]): string[] {
  const out: string[] = [];
  let last = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
    out.push(...splitter.push(bytes.subarray(last, cut)));
    last = cut;
  }
  out.push(...splitter.push(bytes.subarray(last)), ...splitter.end());
  return out;
}

describe("MessageSplitter", () => {
  it("strips the batch envelope and yields each HL7 message", () => {
    const batch = "FHS|^~\\&\rBHS|^~\\&\rMSH|^~\\&|A\rPID|1\rMSH|^~\\&|B\rPID|2\rBTS|2\rFTS|1\r";
    const messages = splitInChunks(new MessageSplitter({ mode: "hl7-batch", charset: "utf8" }), Buffer.from(batch), [3, 17, 30]);
    expect(messages).toEqual(["MSH|^~\\&|A\rPID|1\r", "MSH|^~\\&|B\rPID|2\r"]);
  });

  it("yields the same lines however the bytes are cut, multi-byte characters included (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme", minLength: 1 }).filter((l) => !/[\r\n]/.test(l) && l.trim() !== ""), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (lines, cuts, crlf) => {
        const bytes = Buffer.from(lines.join(crlf ? "\r\n" : "\n"), "utf8");
        expect(splitInChunks(new MessageSplitter({ mode: "lines", charset: "utf8" }), bytes, cuts)).toEqual(lines);
      }),
    );
  });

  it("decodes latin1 feeds", () => {
    expect(splitInChunks(new MessageSplitter({ mode: "lines", charset: "latin1" }), Buffer.from("MÜLLER\nRENÉ", "latin1"), [])).toEqual(["MÜLLER", "RENÉ"]);
  });
});

describe("file name filter", () => {
  it("matches comma-separated globs or a regular expression, and refuses a bad one", () => {
    const globs = createFileNameMatcher("*.hl7, lab-??.txt", false);
    expect(["a.hl7", "lab-01.txt"].every(globs)).toBe(true);
    expect(["a.hl7.tmp", "lab-1.txt", "x.HL7x"].some(globs)).toBe(false);
    expect(createFileNameMatcher("^ORU_\\d+\\.dat$", true)("ORU_12.dat")).toBe(true);
    expect(() => createFileNameMatcher("(", true)).toThrow(expect.objectContaining({ code: "ERR_REMOTEFILE_INVALID_OPTIONS" }));
  });
});
