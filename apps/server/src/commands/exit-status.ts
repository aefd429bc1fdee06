import { isNodeMirthError } from "@node-mirth/core";

/** Exit statuses of `node-mirth`: documented in the README. */
export const EXIT = { ok: 0, failed: 1, refused: 2 } as const;

/**
 * Errors an operator fixes in the configuration: exit 2, message only (no stack). The
 * rest are bugs or the environment (port in use, disk) and exit 1.
 */
export function isConfigurationRefusal(error: unknown): boolean {
  if (!isNodeMirthError(error)) return false;
  return (
    error.code.startsWith("ERR_CONFIG_") ||
    error.code.startsWith("ERR_CERTS_") ||
    error.code === "ERR_POLICY_INSECURE_BIND" ||
    error.code === "ERR_POLICY_INSECURE_TLS"
  );
}

/** The fix for an API bind refusal, in the words of the settings an operator has. */
export const API_BIND_FIX =
  "To expose the API beyond this machine, give it a certificate (TLS_CERT and TLS_KEY, or " +
  "[api] tls_cert_file / tls_key_file), or put it behind a TLS-terminating proxy " +
  "([api] tls_terminated_upstream = true with trusted_proxies = [\"<proxy address>\"]). " +
  "Otherwise keep HOST=127.0.0.1. --allow-insecure-bind is for development only.";
