import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CORE_ERROR_CODES, isNodeMirthError, NodeMirthError } from "./errors.js";

describe("CORE_ERROR_CODES", () => {
  it("matches the README's error-code table, code for code and word for word", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\|\s*`(ERR_[A-Z_]+)`\s*\|\s*(.+?)\s*\|$/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(Object.fromEntries(rows)).toEqual(CORE_ERROR_CODES);
  });

  it("recognizes node-mirth errors by code, including plain errors from another copy", () => {
    expect(isNodeMirthError(new NodeMirthError("ERR_STORE_CLOSED", "closed"))).toBe(true);
    expect(isNodeMirthError(Object.assign(new Error("x"), { code: "ERR_OTHER" }))).toBe(true);
    expect(isNodeMirthError(Object.assign(new Error("x"), { code: "ENOENT" }))).toBe(false);
    expect(isNodeMirthError("ERR_STORE_CLOSED")).toBe(false);
  });
});
