import { NodeMirthError } from "./errors.js";

/** A loud, structured warning from the security policy. Never carries message content. */
export interface PolicyWarning {
  code: "WARN_POLICY_INSECURE_BIND" | "WARN_POLICY_INSECURE_TLS";
  message: string;
  details: Record<string, unknown>;
}

/** Receives policy warnings; the server passes one that logs at `warn` through pino. */
export type PolicyWarningHandler = (warning: PolicyWarning) => void;

/**
 * Default handler when none is given: `process.emitWarning`, which Node prints to stderr
 * (and which `--no-warnings` would hide; the server always passes its own handler).
 */
export const emitPolicyWarning: PolicyWarningHandler = (warning) => {
  process.emitWarning(warning.message, {
    code: warning.code,
    detail: JSON.stringify(warning.details),
  });
};

export const INSECURE_TLS_ENV = "MIRTH_ALLOW_INSECURE_TLS";

let processDecision: boolean | undefined;

function readFlag(value: string | undefined): boolean {
  const v = value?.trim().toLowerCase();
  return v === "1" || v === "true";
}

/**
 * True when `MIRTH_ALLOW_INSECURE_TLS` is `1` or `true` (nothing else counts: `yes`, `0`,
 * empty are all "not allowed"). With no argument, `process.env` is read once per process and
 * remembered, so a later change of the environment cannot widen the policy of a running
 * engine; pass `env` to decide from an explicit environment (tests, the config loader).
 */
export function insecureTlsAllowed(env?: NodeJS.ProcessEnv): boolean {
  if (env !== undefined) return readFlag(env[INSECURE_TLS_ENV]);
  processDecision ??= readFlag(process.env[INSECURE_TLS_ENV]);
  return processDecision;
}

/** Forgets the per-process decision of `insecureTlsAllowed()`. Tests only. */
export function resetInsecureTlsForTests(): void {
  processDecision = undefined;
}

/**
 * Reports one use of a weakened setting. Call it every time the setting takes effect
 * (each connection or deploy), not once per process: operators must see every use.
 */
export function warnInsecureUse(
  setting: string,
  onWarning: PolicyWarningHandler = emitPolicyWarning,
): void {
  onWarning({
    code: "WARN_POLICY_INSECURE_TLS",
    message:
      `SECURITY WARNING: insecure setting in use: ${setting}. Allowed only because ` +
      `${INSECURE_TLS_ENV}=1 is set; never run production like this.`,
    details: { setting, env: INSECURE_TLS_ENV },
  });
}

/** Thrown when a setting weakens TLS or exposes credentials and the escape is not set. */
export class InsecureTlsError extends NodeMirthError {
  constructor(setting: string) {
    super(
      "ERR_POLICY_INSECURE_TLS",
      `Refused insecure setting: ${setting}. Fix the setting (turn verification on, use TLS, ` +
        `pin the host key), or set ${INSECURE_TLS_ENV}=1 for development only.`,
      { details: { setting, env: INSECURE_TLS_ENV } },
    );
  }
}

export interface AssertSecureOptions {
  /** Environment to read instead of the per-process decision. */
  env?: NodeJS.ProcessEnv;
  onWarning?: PolicyWarningHandler;
}

/**
 * Gate for a weakened setting. `setting` names it for an operator, e.g.
 * `"HTTP sender 'lab results': rejectUnauthorized=false"`. Throws `ERR_POLICY_INSECURE_TLS`
 * unless `MIRTH_ALLOW_INSECURE_TLS=1`; when allowed, warns loudly (once per call).
 */
export function assertSecureOrAllowed(setting: string, options: AssertSecureOptions = {}): void {
  if (!insecureTlsAllowed(options.env)) throw new InsecureTlsError(setting);
  warnInsecureUse(setting, options.onWarning);
}
