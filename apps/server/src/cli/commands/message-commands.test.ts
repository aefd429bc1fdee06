import { InvalidArgumentError } from "commander";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTime, positiveInteger } from "./message-commands.js";

describe("parseTime", () => {
  it("reads back every instant printed as ISO 8601 UTC", () => {
    fc.assert(
      fc.property(fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59Z"), noInvalidDate: true }), (date) => {
        expect(parseTime(date.toISOString())).toBe(date.getTime());
      }),
    );
  });

  it("honours an offset and takes a bare date as UTC midnight", () => {
    expect(parseTime("2026-11-24T09:00:00+01:00")).toBe(Date.UTC(2026, 10, 24, 8));
    expect(parseTime("2026-11-24")).toBe(Date.UTC(2026, 10, 24));
  });

  it("refuses a time without a zone (it would depend on the machine's) and free text", () => {
    for (const value of ["2026-11-24T08:00:00", "yesterday", "1732435200000", "2026-13-45T00:00:00Z", ""]) {
      expect(() => parseTime(value), value).toThrow(InvalidArgumentError);
    }
  });
});

describe("positiveInteger", () => {
  it("accepts exactly the decimal safe integers from 1", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (value) => {
        const valid = /^\d+$/.test(value) && Number(value) >= 1 && Number.isSafeInteger(Number(value));
        if (valid) expect(positiveInteger(value)).toBe(Number(value));
        else expect(() => positiveInteger(value)).toThrow(InvalidArgumentError);
      }),
    );
    expect(positiveInteger("42")).toBe(42);
  });
});
