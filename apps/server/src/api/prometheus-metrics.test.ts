import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeLabel } from "./prometheus-metrics.js";

describe("escapeLabel", () => {
  it("escapes backslash, quote and newline so a channel name cannot break the exposition", () => {
    expect(escapeLabel('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
  });

  it("leaves no raw newline or unescaped quote, and round-trips", () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const escaped = escapeLabel(text);
        expect(escaped).not.toContain("\n");
        expect(/(^|[^\\])(\\\\)*"/.test(escaped)).toBe(false);
        expect(JSON.parse(`"${escaped.replace(/\\n/g, "\\n")}"`)).toBe(text);
      }),
    );
  });
});
