import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Hl7ParseError } from "./errors.js";
import { hl7FromXml } from "./hl7-from-xml.js";
import { parseHl7 } from "./parse-hl7.js";

const PUNCTUATION = [..."|^~\\&#!$%*+:;=?@_/'`{}[]<>,.-"];

const delimiterSet = fc
  .shuffledSubarray(PUNCTUATION, { minLength: 6, maxLength: 6 })
  .chain((chars) =>
    fc.boolean().map((withTruncation) => (withTruncation ? chars : chars.slice(0, 5))),
  );

/** Raw field text: anything but line breaks, delimiters included. */
const rawText = (alphabet: string[]) =>
  fc.oneof(
    fc.string({ unit: fc.constantFrom(...alphabet, "a", "Z", "0", " ", "é", "日") }),
    fc.string({ unit: "grapheme" }).map((text) => text.replace(/[\r\n]/g, "")),
  );

const segmentNameArb = fc.stringMatching(/^[A-Z][A-Z0-9]{2}$/).filter((name) => name !== "MSH");

interface Generated {
  text: string;
  canonical: string;
}

/** A message with generated delimiters, segments and separators, plus its CR-only form. */
const message = delimiterSet.chain((chars) => {
  const [field = "|", ...encoding] = chars;
  const segment = fc.tuple(segmentNameArb, fc.array(rawText(chars), { maxLength: 6 }));
  return fc
    .tuple(
      fc.array(
        rawText(chars).map((text) => text.replaceAll(field, "")),
        { maxLength: 4 },
      ),
      fc.array(segment, { maxLength: 6 }),
      fc.array(fc.constantFrom("\r", "\n", "\r\n", "\r\r"), { minLength: 7, maxLength: 7 }),
      fc.boolean(),
    )
    .map(([mshFields, segments, separators, trailing]): Generated => {
      const lines = [
        ["MSH", encoding.join(""), ...mshFields].join(field),
        ...segments.map(([name, fields]) =>
          [name, ...fields.map((text) => text.replaceAll(field, "\\"))].join(field),
        ),
      ];
      const text = lines
        .map((line, i) => line + (i < lines.length - 1 || trailing ? (separators[i] ?? "\r") : ""))
        .join("");
      return { text, canonical: lines.map((line) => line + "\r").join("") };
    });
});

describe("properties", () => {
  it("parse then serialize is the identity", () => {
    fc.assert(
      fc.property(message, ({ text }) => {
        expect(parseHl7(text).toString()).toBe(text);
        const utf8 = Buffer.from(text, "utf8");
        expect(parseHl7(utf8, { defaultCharset: "utf-8" }).toBuffer().equals(utf8)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("ER7 to XML to ER7 is the identity for CR-terminated messages", () => {
    fc.assert(
      fc.property(message, ({ canonical }) => {
        expect(hl7FromXml(parseHl7(canonical).toXml()).toString()).toBe(canonical);
      }),
      { numRuns: 500 },
    );
  });

  const path = fc
    .tuple(
      fc.constantFrom("PID", "ZZZ", "OBX[2]", "NTE[3]"),
      fc.integer({ min: 1, max: 12 }),
      fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      fc.option(
        fc.tuple(
          fc.integer({ min: 1, max: 5 }),
          fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        ),
        { nil: undefined },
      ),
    )
    .map(([segment, field, repetition, component]) => {
      let text = `${segment}.${field}`;
      if (repetition !== undefined) text += `[${repetition}]`;
      if (component !== undefined)
        text += `.${component[0]}` + (component[1] === undefined ? "" : `.${component[1]}`);
      return text;
    });

  it("get returns what set stored, through serialization too, whatever the value holds", () => {
    const header = fc.constantFrom(
      "MSH|^~\\&|A\rPID|1||X^Y~Z\r",
      "MSH|^~\\&#|A\rOBX|1|TX\r",
      "MSH#:*!$#A\rPID#1\n",
    );
    const value = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."|^~\\&#:*!$\r\nXEFSTR.br") }),
      fc.string({ unit: "binary" }),
    );
    fc.assert(
      fc.property(
        header,
        fc.array(fc.tuple(path, value), { minLength: 1, maxLength: 4 }),
        (text, writes) => {
          const message = parseHl7(text);
          for (const [target, stored] of writes) {
            message.set(target, stored);
            expect(message.get(target)).toBe(stored);
          }
          const [lastPath, lastValue] = writes[writes.length - 1] ?? ["", ""];
          expect(parseHl7(message.toString()).get(lastPath)).toBe(lastValue);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("the parser throws nothing but Hl7ParseError on arbitrary input", () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc
        .uint8Array({ maxLength: 300 })
        .map((bytes) => Buffer.concat([Buffer.from("MSH|^~\\&|"), bytes])),
      fc.string({ unit: "binary", maxLength: 200 }).map((text) => "MSH" + text),
      fc.string({
        unit: fc.constantFrom("M", "S", "H", "|", "^", "~", "\\", "&", "\r", "\n", "X", "1"),
      }),
    );
    fc.assert(
      fc.property(input, (raw) => {
        try {
          const parsed = parseHl7(raw);
          expect(parsed.toString().length).toBeGreaterThan(0);
          parsed.toXml();
        } catch (error) {
          expect(error).toBeInstanceOf(Hl7ParseError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
