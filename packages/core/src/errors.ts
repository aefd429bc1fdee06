/**
 * The one catalogue of core's error codes. Codes are stable API: operators search for them,
 * the server maps them to HTTP statuses, and the README table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const CORE_ERROR_CODES = {
  ERR_POLICY_INSECURE_BIND: "A listener would bind a non-loopback address without TLS.",
  ERR_POLICY_EGRESS_DENIED: "A destination address is not on the [egress] allow-list.",
  ERR_POLICY_INSECURE_TLS: "A TLS or credential setting weaker than the floor, without MIRTH_ALLOW_INSECURE_TLS=1.",
  ERR_CONFIG_UNSET_VARIABLE: "A ${VAR} in a configuration has no value in the environment or configuration map.",
} as const;

export type CoreErrorCode = keyof typeof CORE_ERROR_CODES;

export interface NodeMirthErrorOptions {
  cause?: unknown;
  /** Structured facts for logs and API bodies; never message content (PHI). */
  details?: Record<string, unknown>;
}

/**
 * Base of every error node-mirth throws on purpose. Recognized by `code`, not by class,
 * across package boundaries (two copies of a package must still agree).
 */
export class NodeMirthError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: NodeMirthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }
}

/** True for any node-mirth error, including ones from another copy of this package. */
export function isNodeMirthError(error: unknown): error is NodeMirthError {
  return (
    error instanceof Error &&
    typeof (error as { code?: unknown }).code === "string" &&
    (error as { code: string }).code.startsWith("ERR_")
  );
}
