/**
 * The one catalogue of this package's error codes. Codes are stable API: operators search
 * for them, connectors recognize them, and the README table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const CERTS_ERROR_CODES = {
  ERR_CERTS_FILE_NOT_FOUND: "A key, certificate, CA or keystore file does not exist.",
  ERR_CERTS_FILE_UNREADABLE: "A key, certificate, CA or keystore file exists but cannot be read.",
  ERR_CERTS_NOT_PEM: "A file holds no PEM block of the kind expected (key, certificate).",
  ERR_CERTS_INVALID_KEY: "A private key cannot be parsed.",
  ERR_CERTS_INVALID_CERTIFICATE: "A certificate cannot be parsed.",
  ERR_CERTS_PASSPHRASE_REQUIRED:
    "A private key or keystore is encrypted and no passphrase or password was given.",
  ERR_CERTS_BAD_PASSWORD:
    "A passphrase, store password or key password is wrong (or the keystore was altered).",
  ERR_CERTS_KEY_MISMATCH: "The private key does not belong to the leaf certificate.",
  ERR_CERTS_EXPIRED: "A certificate is past its not-after date.",
  ERR_CERTS_NOT_YET_VALID: "A certificate is before its not-before date.",
  ERR_CERTS_NOT_A_CA: "A CA file (trust store) holds no CA or self-signed certificate.",
  ERR_CERTS_NAME_MISMATCH: "The server certificate does not cover the configured sniServerName.",
  ERR_CERTS_UNSUPPORTED_KEYSTORE: "A keystore type or algorithm this package cannot read.",
  ERR_CERTS_CORRUPT_KEYSTORE: "A keystore file is truncated or malformed.",
  ERR_CERTS_SECRET_KEY_ENTRY: "A JCEKS keystore holds a secret-key entry, which has no PEM form.",
  ERR_CERTS_NO_KEY_ENTRY: "A keystore holds no private-key entry where one is needed.",
  ERR_CERTS_ALIAS_NOT_FOUND: "The requested alias is not a private-key entry of the keystore.",
  ERR_CERTS_ALIAS_REQUIRED: "A keystore holds several private-key entries and no alias was chosen.",
  ERR_CERTS_MISSING_SETTING:
    "A TLS setting the connection needs (key, certificate, trust store) is not set.",
  ERR_CERTS_INVALID_PROPERTIES: "TLS properties do not match the schema.",
  ERR_CERTS_INSECURE_SETTING:
    "A TLS setting weaker than the floor, without MIRTH_ALLOW_INSECURE_TLS=1.",
  ERR_CERTS_OUTPUT_FAILED: "Converted PEM files could not be written.",
  ERR_CERTS_PASSWORD_UNAVAILABLE:
    "The CLI could not obtain a password (unset variable, unreadable file, no terminal).",
} as const;

export type CertsErrorCode = keyof typeof CERTS_ERROR_CODES;

export interface CertsErrorOptions {
  cause?: unknown;
  /** Structured facts for logs (file, alias, setting); never key material or passwords. */
  details?: Record<string, unknown>;
}

/**
 * Every error this package throws on purpose. Recognized by `code` (it follows the
 * node-mirth `ERR_<AREA>_<WHAT>` convention, so core's `isNodeMirthError` accepts it).
 */
export class CertsError extends Error {
  readonly code: CertsErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: CertsErrorCode, message: string, options: CertsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "CertsError";
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True for an error of this package, including one from another copy of it. */
export function isCertsError(error: unknown): error is CertsError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(CERTS_ERROR_CODES, code);
}
