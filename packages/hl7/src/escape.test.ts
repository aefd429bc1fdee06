import { describe, expect, it } from "vitest";
import { resolveCharset } from "./charset.js";
import { DEFAULT_DELIMITERS, type Hl7Delimiters } from "./delimiters.js";
import { escapeHl7, unescapeHl7 } from "./escape.js";

const d = DEFAULT_DELIMITERS;
const v27: Hl7Delimiters = { ...DEFAULT_DELIMITERS, truncation: "#" };

describe("escapeHl7", () => {
  it("escapes each delimiter, the escape character and line breaks", () => {
    expect(escapeHl7("a|b^c~d&e\\f", d)).toBe("a\\F\\b\\S\\c\\R\\d\\T\\e\\E\\f");
    expect(escapeHl7("line1\r\nline2", d)).toBe("line1\\X0D\\\\X0A\\line2");
    expect(escapeHl7("plain text", d)).toBe("plain text");
  });

  it("escapes the truncation character only when MSH-2 defines one", () => {
    expect(escapeHl7("#1", v27)).toBe("\\P\\1");
    expect(escapeHl7("#1", d)).toBe("#1");
  });

  it("uses the message's own escape character", () => {
    const custom: Hl7Delimiters = { ...DEFAULT_DELIMITERS, escape: "!" };
    expect(escapeHl7("a!b\\c", custom)).toBe("a!E!b\\c");
  });
});

describe("unescapeHl7", () => {
  it("decodes the delimiter escapes", () => {
    expect(unescapeHl7("\\F\\\\S\\\\T\\\\R\\\\E\\", d)).toBe("|^&~\\");
    expect(unescapeHl7("\\P\\", v27)).toBe("#");
  });

  it("decodes hexadecimal data in the message charset", () => {
    expect(unescapeHl7("A\\X0D0A\\B", d)).toBe("A\r\nB");
    expect(unescapeHl7("caf\\XC3A9\\", d, resolveCharset("UNICODE UTF-8"))).toBe("café");
    expect(unescapeHl7("caf\\XE9\\", d, resolveCharset("8859/1"))).toBe("café");
  });

  it("keeps charset switches, formatting codes and unknown escapes exactly as written", () => {
    for (const kept of [
      "\\.br\\",
      "\\H\\",
      "\\N\\",
      "\\.sp2\\",
      "\\C2842\\",
      "\\M2442\\",
      "\\Zfoo\\",
      "\\Q\\",
      "\\X0\\",
      "\\XZZ\\",
      "\\P\\",
      "\\\\",
    ]) {
      expect(unescapeHl7(`a${kept}b`, d), kept).toBe(`a${kept}b`);
    }
  });

  it("keeps a lone escape character", () => {
    expect(unescapeHl7("C:\\temp", d)).toBe("C:\\temp");
    expect(unescapeHl7("a\\F\\b\\", d)).toBe("a|b\\");
  });

  it("round-trips every value through escape then unescape", () => {
    for (const value of ["", "\\", "\\\\E\\", "|^~&#", "\\.br\\", "a\rb\nc", "\\X41\\"]) {
      expect(unescapeHl7(escapeHl7(value, v27), v27)).toBe(value);
    }
  });
});
