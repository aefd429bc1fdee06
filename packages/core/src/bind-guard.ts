import { isLoopbackHost } from "./address-match.js";
import { NodeMirthError } from "./errors.js";
import {
  emitPolicyWarning,
  type PolicyWarning,
  type PolicyWarningHandler,
} from "./insecure-tls.js";

export interface BindRequest {
  /**
   * The host you are about to pass to `listen()`. Undefined or empty means what Node does
   * with no host: every interface. Pass it through unchanged.
   */
  host: string | undefined;
  /** Names the listener for the operator, e.g. `"MLLP listener 'ADT in'"`. */
  kind: string;
  /**
   * `true` when this listener terminates TLS itself; `"upstream"` when a trusted proxy in
   * front of it terminates TLS (the server passes this for the API when configured so).
   */
  tls: boolean | "upstream";
  /** `--allow-insecure-bind`: development only; allowed, but warned about loudly. */
  allowInsecureBind?: boolean;
  /** Receives the warning when the escape is used; default `process.emitWarning`. */
  onWarning?: PolicyWarningHandler;
}

/** Why a bind was allowed. */
export type BindReason = "loopback" | "tls" | "upstream-tls" | "insecure-allowed";

export interface BindDecision {
  host: string;
  reason: BindReason;
  /** Present (and already sent to `onWarning`) when the escape allowed the bind. */
  warning?: PolicyWarning;
}

/** Thrown when a listener would bind a non-loopback address without TLS. */
export class InsecureBindError extends NodeMirthError {
  constructor(kind: string, host: string) {
    super(
      "ERR_POLICY_INSECURE_BIND",
      `${kind} would listen on ${describe(host)} without TLS, which exposes cleartext health ` +
        `data to the network. Enable TLS for it, or bind it to 127.0.0.1; for development ` +
        `only, start with --allow-insecure-bind.`,
      { details: { kind, host } },
    );
  }
}

function describe(host: string): string {
  return host === "" ? "every interface (no host given)" : `"${host}"`;
}

/**
 * Decides whether a listener may bind: loopback always; anything else (0.0.0.0, ::, a LAN
 * address, any host name but `localhost`) only with TLS, a trusted upstream TLS terminator, or
 * the development escape. Returns why it was allowed; throws `ERR_POLICY_INSECURE_BIND` otherwise.
 */
export function assertBindAllowed(request: BindRequest): BindDecision {
  const host = request.host?.trim() ?? "";
  if (host !== "" && isLoopbackHost(host)) return { host, reason: "loopback" };
  if (request.tls === true) return { host, reason: "tls" };
  if (request.tls === "upstream") return { host, reason: "upstream-tls" };
  if (request.allowInsecureBind !== true) throw new InsecureBindError(request.kind, host);
  const warning: PolicyWarning = {
    code: "WARN_POLICY_INSECURE_BIND",
    message:
      `SECURITY WARNING: ${request.kind} listens on ${describe(host)} WITHOUT TLS because ` +
      `--allow-insecure-bind is set. Anyone on the network can read and inject messages. ` +
      `Development only.`,
    details: { kind: request.kind, host },
  };
  (request.onWarning ?? emitPolicyWarning)(warning);
  return { host, reason: "insecure-allowed", warning };
}
