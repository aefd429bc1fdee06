import { NodeMirthError, type NodeMirthErrorOptions } from "@node-mirth/core";

/**
 * The one catalogue of this package's error codes. Codes are stable API: operators search
 * for them, the engine recognizes them, and the README table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const SMTP_ERROR_CODES = {
  ERR_SMTP_INVALID_OPTIONS: "Sender options or a mail field are invalid (no host, bad port, empty login, a line break in the subject, a header or a file name).",
  ERR_SMTP_NO_RECIPIENTS: "After filling the templates the mail has no To, Cc or Bcc address.",
  ERR_SMTP_INVALID_ADDRESS: "A From, To, Cc, Bcc or Reply-To value is not a mail address (or holds a line break).",
  ERR_SMTP_CONNECT_FAILED: "The server could not be reached: refused, unreachable, or the connection closed early.",
  ERR_SMTP_TIMEOUT: "Connecting, the greeting, the TLS handshake or a reply took longer than its timeout.",
  ERR_SMTP_STARTTLS_UNAVAILABLE: "encryption is tls but the server does not offer STARTTLS: nothing was sent in plaintext.",
  ERR_SMTP_TLS_FAILED: "The TLS handshake failed: certificate not trusted, wrong host name, or no common protocol.",
  ERR_SMTP_AUTH_FAILED: "The server refused the username and password (or offers no way to log in).",
  ERR_SMTP_TRANSIENT: "The server answered 4xx (try later): the engine retries.",
  ERR_SMTP_REJECTED: "The server answered 5xx (permanent): the mail or a recipient is refused; retrying will not help.",
  ERR_SMTP_SEND_FAILED: "The send failed for another reason (protocol error, aborted, sender closed).",
} as const;

export type SmtpErrorCode = keyof typeof SMTP_ERROR_CODES;

/** Every error this package throws on purpose. Messages state facts, never mail content. */
export class SmtpError extends NodeMirthError {
  declare readonly code: SmtpErrorCode;

  constructor(code: SmtpErrorCode, message: string, options: NodeMirthErrorOptions = {}) {
    super(code, message, options);
  }
}

/** True for an error of this package, including one from another copy of it. */
export function isSmtpError(error: unknown): error is SmtpError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(SMTP_ERROR_CODES, code);
}
