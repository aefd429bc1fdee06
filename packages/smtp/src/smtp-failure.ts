import { isNodeMirthError } from "@node-mirth/core";
import { SmtpError, type SmtpErrorCode } from "./errors.js";

/** The fields nodemailer puts on the errors it hands back. */
interface NodemailerFailure {
  code?: string;
  /** The socket's own code under nodemailer's ESOCKET, e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE. */
  originalCode?: string;
  command?: string;
  responseCode?: number;
  permanent?: boolean;
  message: string;
}

const CONNECT_CODES = new Set(["ECONNECTION", "ESOCKET", "EDNS", "EPROXY"]);
/** Node's and OpenSSL's codes for a failed handshake or certificate check. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/**
 * True when the same mail may go through later: the server said 4xx (or 503, a session in
 * the wrong state), or the connection did not get as far as a reply (unreachable, timeout,
 * TLS handshake, STARTTLS missing: nothing was sent, and the peer can be fixed). A 5xx reply,
 * refused credentials and bad mail are permanent.
 */
export function isRetryableSmtpFailure(error: SmtpError): boolean {
  const responseCode = error.details.responseCode;
  switch (error.code) {
    case "ERR_SMTP_CONNECT_FAILED":
    case "ERR_SMTP_TIMEOUT":
    case "ERR_SMTP_TLS_FAILED":
    case "ERR_SMTP_STARTTLS_UNAVAILABLE":
    case "ERR_SMTP_TRANSIENT":
    case "ERR_SMTP_SEND_FAILED":
      return true;
    case "ERR_SMTP_AUTH_FAILED":
      return typeof responseCode === "number" && responseCode >= 400 && responseCode < 500;
    default:
      return false;
  }
}

function classify(failure: NodemailerFailure): SmtpErrorCode {
  const { code, command, responseCode } = failure;
  if (failure.originalCode !== undefined && TLS_CODE.test(failure.originalCode)) return "ERR_SMTP_TLS_FAILED";
  if (code === "ETLS") return command === "STARTTLS" && responseCode !== undefined ? "ERR_SMTP_STARTTLS_UNAVAILABLE" : "ERR_SMTP_TLS_FAILED";
  if (code === "EAUTH" || code === "ENOAUTH") return "ERR_SMTP_AUTH_FAILED";
  if (code === "ETIMEDOUT") return "ERR_SMTP_TIMEOUT";
  if (responseCode !== undefined && responseCode >= 400) {
    // nodemailer's `permanent` already knows 503 is a session problem, not a verdict on the mail.
    const permanent = failure.permanent ?? responseCode >= 500;
    return permanent ? "ERR_SMTP_REJECTED" : "ERR_SMTP_TRANSIENT";
  }
  if (code !== undefined && CONNECT_CODES.has(code)) return "ERR_SMTP_CONNECT_FAILED";
  return "ERR_SMTP_SEND_FAILED";
}

/**
 * Normalizes what nodemailer (or our socket opener, or the egress policy) threw into one
 * error with a stable code. Core errors (egress refusal) pass through unchanged. The text
 * keeps the server's reply, which names the failing command, never the mail content.
 */
export function toSmtpError(error: unknown, where: string): Error {
  if (isNodeMirthError(error)) return error;
  const failure: NodemailerFailure =
    error instanceof Error ? error : { message: String(error) };
  const code = classify(failure);
  const reply = failure.responseCode === undefined ? "" : ` (server replied ${failure.responseCode}${failure.command === undefined ? "" : ` to ${failure.command}`})`;
  const hint = code === "ERR_SMTP_STARTTLS_UNAVAILABLE" ? "; encryption is tls, so nothing was sent in plaintext" : "";
  return new SmtpError(code, `SMTP ${where}: ${failure.message}${reply}${hint}`, {
    cause: error,
    details: {
      ...(failure.responseCode === undefined ? {} : { responseCode: failure.responseCode }),
      ...(failure.command === undefined ? {} : { command: failure.command }),
      ...(failure.code === undefined ? {} : { nodemailerCode: failure.code }),
      ...(failure.originalCode === undefined ? {} : { socketCode: failure.originalCode }),
    },
  });
}
