import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { HL7_ERROR_CODES, Hl7CharsetError, Hl7Error, Hl7ParseError } from "./errors.js";

describe("error catalogue", () => {
  it("matches the README's error-code table, code for code and word for word", () => {
    const readme = readFileSync(join(import.meta.dirname, "../README.md"), "utf8");
    const rows = [...readme.matchAll(/^\|\s*`(ERR_HL7_[A-Z_]+)`\s*\|\s*(.+?)\s*\|$/gm)].map(
      ([, code, meaning]) => [code, meaning],
    );
    expect(Object.fromEntries(rows)).toEqual(HL7_ERROR_CODES);
    expect(rows).toHaveLength(Object.keys(HL7_ERROR_CODES).length);
  });

  it("gives each error its code, class name, position and cause", () => {
    const cause = new Error("inner");
    const error = new Hl7CharsetError("ERR_HL7_INVALID_BYTES", "Bad bytes", {
      position: { segment: 2, offset: 9 },
      cause,
    });
    expect(error).toBeInstanceOf(Hl7ParseError);
    expect(error).toBeInstanceOf(Hl7Error);
    expect(error.name).toBe("Hl7CharsetError");
    expect(error.code).toBe("ERR_HL7_INVALID_BYTES");
    expect(error.message).toBe("Bad bytes (at segment 2, offset 9)");
    expect(error.position).toEqual({ segment: 2, offset: 9 });
    expect(error.cause).toBe(cause);
    expect(new Hl7ParseError("ERR_HL7_EMPTY_INPUT", "Empty").message).toBe("Empty");
  });
});
