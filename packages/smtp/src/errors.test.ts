import { NodeMirthError } from "@node-mirth/core";
import { describe, expect, it } from "vitest";
import { isSmtpError, SMTP_ERROR_CODES, SmtpError } from "./errors.js";

describe("SMTP error catalogue", () => {
  it("codes are ERR_SMTP_* and each has an operator text", () => {
    for (const [code, text] of Object.entries(SMTP_ERROR_CODES)) {
      expect(code).toMatch(/^ERR_SMTP_[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(20);
    }
  });

  it("SmtpError is a NodeMirthError recognized by code, also from another copy of the package", () => {
    const error = new SmtpError("ERR_SMTP_REJECTED", "refused", { details: { responseCode: 550 } });
    expect(error).toBeInstanceOf(NodeMirthError);
    expect(isSmtpError(error)).toBe(true);
    expect(isSmtpError(Object.assign(new Error("x"), { code: "ERR_SMTP_TIMEOUT" }))).toBe(true);
    expect(isSmtpError(Object.assign(new Error("x"), { code: "ERR_MLLP_REJECTED" }))).toBe(false);
    expect(isSmtpError("ERR_SMTP_TIMEOUT")).toBe(false);
  });
});
