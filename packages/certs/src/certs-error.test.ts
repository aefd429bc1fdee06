import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CERTS_ERROR_CODES, CertsError, isCertsError } from "./certs-error.js";

describe("CERTS_ERROR_CODES", () => {
  it("follows ERR_CERTS_<WHAT>", () => {
    for (const code of Object.keys(CERTS_ERROR_CODES))
      expect(code).toMatch(/^ERR_CERTS_[A-Z0-9_]+$/);
  });

  it("is exactly the README's error-code table, in order", () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| `(ERR_[A-Z0-9_]+)` *\| (.+?) *\|$/gm)].map((match) => [
      match[1],
      match[2],
    ]);
    expect(rows).toEqual(Object.entries(CERTS_ERROR_CODES));
  });
});

describe("CertsError", () => {
  it("carries its code, details and cause, and is recognized by code", () => {
    const cause = new Error("ENOENT");
    const error = new CertsError("ERR_CERTS_FILE_NOT_FOUND", "x.pem does not exist", {
      cause,
      details: { file: "x.pem" },
    });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("CertsError");
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ file: "x.pem" });
    expect(isCertsError(error)).toBe(true);
    expect(isCertsError(Object.assign(new Error("copy"), { code: "ERR_CERTS_EXPIRED" }))).toBe(
      true,
    );
    expect(
      isCertsError(Object.assign(new Error("other"), { code: "ERR_POLICY_INSECURE_BIND" })),
    ).toBe(false);
    expect(isCertsError({ code: "ERR_CERTS_EXPIRED" })).toBe(false);
  });
});
