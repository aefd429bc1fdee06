import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatFields, formatTable, formatTime, printable } from "./format-table.js";

// eslint-disable-next-line no-control-regex -- finding control characters is what is tested
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe("formatTable", () => {
  it("aligns columns: every cell of a column starts at the same offset, no trailing spaces", () => {
    const cell = fc.string({ unit: fc.constantFrom("a", "B", "7", "-", "é", " ", "\r", "\u001b"), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.tuple(cell, cell, cell), { maxLength: 8 }), (rows) => {
        const text = formatTable(
          [
            { header: "id", value: (row: [string, string, string]) => row[0].replace(/ /g, "_") || "x" },
            { header: "name", value: (row) => row[1].replace(/ /g, "_") || "x" },
            { header: "state", value: (row) => row[2] },
          ],
          rows,
        );
        const lines = text.slice(0, -1).split("\n");
        expect(lines).toHaveLength(rows.length + 1);
        expect(text.endsWith("\n")).toBe(true);
        const nameAt = lines[0]!.indexOf("NAME");
        for (const line of lines) {
          expect(line).toBe(line.trimEnd());
          expect(CONTROL.test(line)).toBe(false);
          // The cell before the name column is padded up to it, followed by two spaces.
          expect(line.slice(nameAt - 2, nameAt)).toBe("  ");
          expect(line[nameAt]).not.toBe(" ");
        }
      }),
    );
  });

  it("prints only the header for no rows", () => {
    expect(formatTable([{ header: "id", value: (row: string) => row }], [])).toBe("ID\n");
  });
});

describe("printable", () => {
  it("masks every C0/C1 control character and keeps everything else", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (value) => {
        const shown = printable(value);
        expect([...shown]).toHaveLength([...value].length);
        expect(CONTROL.test(shown)).toBe(false);
        [...value].forEach((char, index) => {
          if (!CONTROL.test(char)) expect([...shown][index]).toBe(char);
        });
      }),
    );
  });
});

describe("formatFields and formatTime", () => {
  it("pads names to the longest", () => {
    expect(formatFields([["url", "http://x"], ["status", "ok"]])).toBe("url     http://x\nstatus  ok\n");
  });

  it("prints UTC to the second", () => {
    expect(formatTime(Date.UTC(2026, 10, 24, 8, 5, 9, 999))).toBe("2026-11-24T08:05:09Z");
  });
});
