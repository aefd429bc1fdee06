import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHl7Segments } from "./send-command.js";

describe("toHl7Segments", () => {
  it("turns LF, CRLF and CR line ends into single CR segment separators, ending with one CR", () => {
    expect(toHl7Segments("MSH|a\nPID|b\r\nPV1|c\n\n")).toBe("MSH|a\rPID|b\rPV1|c\r");
  });

  it("keeps every segment's text and order whatever line ends the file uses", () => {
    const segment = fc.stringMatching(/^[A-Z]{3}\|[^\r\n]{0,20}$/);
    const lineEnd = fc.constantFrom("\n", "\r\n", "\r");
    fc.assert(
      fc.property(fc.array(fc.tuple(segment, lineEnd), { minLength: 1, maxLength: 8 }), (parts) => {
        const file = parts.map(([text, end]) => text + end).join("");
        const out = toHl7Segments(file);
        expect(out.split("\r").slice(0, -1)).toEqual(parts.map(([text]) => text));
        expect(out.endsWith("\r")).toBe(true);
        expect(out).not.toMatch(/\n/);
      }),
    );
  });
});
