import type { CertsErrorCode } from "./certs-error.js";

/** Something worth an operator's attention that was allowed to pass. */
export interface CertsWarning {
  /** The code this would have failed with, had it not been allowed. */
  code: CertsErrorCode;
  message: string;
  details: Record<string, unknown>;
}

/** Options every loading and building function takes; all optional. */
export interface CertsOptions {
  /** Where `MIRTH_ALLOW_INSECURE_TLS` is read; defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Receives every warning; defaults to `process.emitWarning`, so none is silent. */
  onWarning?: (warning: CertsWarning) => void;
  /** An expired or not-yet-valid certificate: fail (default) or warn and go on. */
  validity?: "error" | "warn";
  /** The clock validity is judged by; for tests and for "will this still work on ...". */
  now?: Date;
}

export interface ResolvedCertsOptions {
  env: Record<string, string | undefined>;
  onWarning: (warning: CertsWarning) => void;
  validity: "error" | "warn";
  now: Date;
}

export function resolveCertsOptions(options: CertsOptions = {}): ResolvedCertsOptions {
  return {
    env: options.env ?? process.env,
    onWarning: options.onWarning ?? emitProcessWarning,
    validity: options.validity ?? "error",
    now: options.now ?? new Date(),
  };
}

function emitProcessWarning(warning: CertsWarning): void {
  process.emitWarning(warning.message, { type: "NodeMirthCertsWarning", code: warning.code });
}
