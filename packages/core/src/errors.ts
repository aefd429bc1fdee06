/**
 * The one catalogue of core's error codes. Codes are stable API: operators search for them,
 * the server maps them to HTTP statuses, and the README table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const CORE_ERROR_CODES = {
  ERR_POLICY_INSECURE_BIND: "A listener would bind a non-loopback address without TLS.",
  ERR_POLICY_EGRESS_DENIED: "A destination address is not on the [egress] allow-list.",
  ERR_POLICY_INSECURE_TLS:
    "A TLS or credential setting weaker than the floor, without MIRTH_ALLOW_INSECURE_TLS=1.",
  ERR_CONFIG_UNSET_VARIABLE:
    "A ${VAR} in a configuration has no value in the environment or configuration map.",
  ERR_CHANNEL_INVALID:
    "A channel configuration failed validation; details.issues lists every problem.",
  ERR_CHANNEL_NOT_DEPLOYED: "No channel with this id is deployed.",
  ERR_CHANNEL_DEPLOY_SCRIPT_FAILED:
    "The channel's deploy script failed, so the channel is not deployed.",
  ERR_CHANNEL_NOT_STARTED:
    "The channel is not started (stopped, paused or stopping), so it accepts no message.",
  ERR_CHANNEL_RECOVERY_FAILED:
    "Recovering the channel's unfinished messages failed at start; the channel stays stopped.",
  ERR_CONNECTOR_DUPLICATE_TYPE: "A connector plugin with this type is already registered.",
  ERR_STORE_CLOSED: "The message store is closed.",
  ERR_STORE_WRITE_FAILED: "A message store transaction failed and was rolled back.",
  ERR_ENGINE_CLOSED: "The engine is closed.",
  ERR_MESSAGE_NOT_FOUND: "No stored message with this id exists in the channel.",
  ERR_MESSAGE_UNFINISHED:
    "The message still has work in progress, so it cannot be reprocessed in place.",
  ERR_MESSAGE_CONTENT_NOT_STORED:
    "The message's raw content was not stored (storage mode), so it cannot be reprocessed.",
  ERR_SCRIPT_COMPILE:
    "A script or code template does not compile (syntax error, or it fails while loading).",
  ERR_SCRIPT_NOT_COMPILED: "A script was run by an id the sandbox never compiled.",
  ERR_SCRIPT_SANDBOX_DISPOSED: "A script sandbox was used after dispose().",
  ERR_SCRIPT_SANDBOX_FAILED: "The script sandbox (QuickJS in WebAssembly) could not start.",
  ERR_TEMPLATE_INVALID: "A message-time template names a field that does not exist.",
  ERR_TEMPLATE_VALUE_MISSING:
    "A message-time template names a map entry the message does not have.",
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
    (error as Error & { code: string }).code.startsWith("ERR_")
  );
}
