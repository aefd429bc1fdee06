import { isNodeMirthError, NodeMirthError } from "@node-mirth/core";
import { describe, expect, it } from "vitest";
import { AUTH_ERROR_CODES, AuthError, type AuthErrorCode } from "./auth-errors.js";

describe("auth error catalogue", () => {
  it("uses stable ERR_AUTH_ codes, each with operator text", () => {
    for (const [code, text] of Object.entries(AUTH_ERROR_CODES)) {
      expect(code).toMatch(/^ERR_AUTH_[A-Z_]+$/);
      expect(text.length).toBeGreaterThan(20);
    }
  });

  it("makes NodeMirthErrors recognised by code, with the catalogue text by default", () => {
    for (const code of Object.keys(AUTH_ERROR_CODES) as AuthErrorCode[]) {
      const error = new AuthError(code);
      expect(error).toBeInstanceOf(NodeMirthError);
      expect(isNodeMirthError(error)).toBe(true);
      expect(error).toMatchObject({ code, message: AUTH_ERROR_CODES[code], name: "AuthError" });
    }
    expect(new AuthError("ERR_AUTH_LOCKED_OUT", "locked", { details: { retryAfterSeconds: 5 } }).details).toEqual({ retryAfterSeconds: 5 });
  });
});
