import fc from "fast-check";
import { EgressDeniedError } from "@node-mirth/core";
import { describe, expect, it } from "vitest";
import { SmtpError, type SmtpErrorCode } from "./errors.js";
import { isRetryableSmtpFailure, toSmtpError } from "./smtp-failure.js";

/** An error shaped as nodemailer hands them back. */
function nodemailerError(fields: { code?: string; command?: string; responseCode?: number; permanent?: boolean; originalCode?: string }): Error {
  return Object.assign(new Error("failure"), fields);
}

const where = "mail.test:587 (tls)";

describe("toSmtpError", () => {
  it.each<[Parameters<typeof nodemailerError>[0], SmtpErrorCode, boolean]>([
    [{ code: "ETLS", command: "STARTTLS", responseCode: 502 }, "ERR_SMTP_STARTTLS_UNAVAILABLE", true],
    [{ code: "ETLS", command: "CONN" }, "ERR_SMTP_TLS_FAILED", true],
    [{ code: "ESOCKET", command: "CONN", originalCode: "ERR_TLS_CERT_ALTNAME_INVALID" }, "ERR_SMTP_TLS_FAILED", true],
    [{ code: "ESOCKET", command: "CONN", originalCode: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }, "ERR_SMTP_TLS_FAILED", true],
    [{ code: "ESOCKET", command: "CONN", originalCode: "ECONNRESET" }, "ERR_SMTP_CONNECT_FAILED", true],
    [{ code: "ECONNECTION" }, "ERR_SMTP_CONNECT_FAILED", true],
    [{ code: "ETIMEDOUT" }, "ERR_SMTP_TIMEOUT", true],
    [{ code: "EAUTH", command: "AUTH PLAIN", responseCode: 535 }, "ERR_SMTP_AUTH_FAILED", false],
    [{ code: "EAUTH", command: "AUTH PLAIN", responseCode: 454 }, "ERR_SMTP_AUTH_FAILED", true],
    [{ code: "ENOAUTH" }, "ERR_SMTP_AUTH_FAILED", false],
    [{ code: "EENVELOPE", command: "RCPT TO", responseCode: 503, permanent: false }, "ERR_SMTP_TRANSIENT", true],
    [{ code: "EMESSAGE", command: "DATA", responseCode: 554, permanent: true }, "ERR_SMTP_REJECTED", false],
    [{ code: "EPROTOCOL" }, "ERR_SMTP_SEND_FAILED", true],
  ])("%o → %s (retryable %s)", (fields, code, retryable) => {
    const error = toSmtpError(nodemailerError(fields), where);
    expect(error).toBeInstanceOf(SmtpError);
    expect((error as SmtpError).code).toBe(code);
    expect(isRetryableSmtpFailure(error as SmtpError)).toBe(retryable);
    expect(error.message).toContain(where);
    expect((error as SmtpError).cause).toBeInstanceOf(Error);
  });

  it("without nodemailer's verdict, any 4xx reply is transient and retryable, any 5xx permanent", () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), fc.constantFrom("EENVELOPE", "EMESSAGE"), (responseCode, code) => {
        const error = toSmtpError(nodemailerError({ code, command: "RCPT TO", responseCode }), where) as SmtpError;
        const permanent = responseCode >= 500;
        expect(error.code).toBe(permanent ? "ERR_SMTP_REJECTED" : "ERR_SMTP_TRANSIENT");
        expect(isRetryableSmtpFailure(error)).toBe(!permanent);
        expect(error.details.responseCode).toBe(responseCode);
      }),
    );
  });

  it("passes errors of core (egress refusal) through unchanged", () => {
    const denied = new EgressDeniedError({ reason: "not-listed", kind: "smtp", target: "evil.test", port: 25 });
    expect(toSmtpError(denied, where)).toBe(denied);
  });

  it("keeps a non-Error throw as its text", () => {
    expect(toSmtpError("boom", where)).toMatchObject({ code: "ERR_SMTP_SEND_FAILED", message: expect.stringContaining("boom") });
  });
});
