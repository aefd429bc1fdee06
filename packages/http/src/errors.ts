import { NodeMirthError, type NodeMirthErrorOptions } from "@node-mirth/core";

/**
 * The one catalogue of this package's error codes. Codes are stable API: operators search
 * for them, the engine recognizes them, and the README table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const HTTP_ERROR_CODES = {
  ERR_HTTP_INVALID_OPTIONS: "Listener, sender or connector options are invalid (bad URL, scheme, method, limit or authentication settings).",
  ERR_HTTP_CONNECT_TIMEOUT: "The sender could not connect (TCP and TLS handshake) within connectTimeoutMs.",
  ERR_HTTP_CONNECT_FAILED: "The sender could not connect or lost the connection: refused, reset, unreachable, or the TLS handshake failed (untrusted certificate, host name mismatch).",
  ERR_HTTP_RESPONSE_TIMEOUT: "No complete response arrived within responseTimeoutMs after the request was sent.",
  ERR_HTTP_RESPONSE_TOO_LARGE: "The response body is larger than maxResponseBytes; it was not read further.",
  ERR_HTTP_REDIRECT_REFUSED: "The server answered 3xx; redirects are never followed. The error names the Location so the URL can be fixed.",
  ERR_HTTP_STATUS: "The server answered with a status that is not 2xx (4xx or 5xx); whether it is retried depends on the status.",
  ERR_HTTP_SENDER_CLOSED: "The sender was closed, or the send was aborted, while a request was waiting or in flight.",
  ERR_HTTP_UNAUTHORIZED: "Listener: a request lacked valid partner credentials (Basic, bearer token, API key or client certificate subject); answered 401/403.",
  ERR_HTTP_BODY_TOO_LARGE: "Listener: a request body exceeded maxBodyBytes; answered 413 and the connection was closed.",
} as const;

export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;

/** Every error this package throws on purpose. Messages state facts, never message content. */
export class HttpError extends NodeMirthError {
  declare readonly code: HttpErrorCode;

  constructor(code: HttpErrorCode, message: string, options: NodeMirthErrorOptions = {}) {
    super(code, message, options);
  }
}

/** A response that is not 2xx; `retryable` says whether sending again may help. */
export class HttpStatusError extends HttpError {
  readonly statusCode: number;
  readonly retryable: boolean;
  /** Milliseconds the server asked to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;
  /** The response body, for the destination response; never logged. */
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;

  constructor(response: {
    statusCode: number;
    retryable: boolean;
    retryAfterMs: number | undefined;
    body: Buffer;
    headers: Readonly<Record<string, string | string[] | undefined>>;
  }) {
    const wait = response.retryAfterMs === undefined ? "" : `; the server asked to wait ${Math.ceil(response.retryAfterMs / 1000)} s`;
    super(
      "ERR_HTTP_STATUS",
      `the server answered HTTP ${response.statusCode}${response.retryable ? " (will be retried)" : " (permanent: not retried)"}${wait}`,
      { details: { statusCode: response.statusCode, retryable: response.retryable } },
    );
    this.statusCode = response.statusCode;
    this.retryable = response.retryable;
    this.retryAfterMs = response.retryAfterMs;
    this.body = response.body;
    this.headers = response.headers;
  }
}

/** True for an error of this package, including one from another copy of it. */
export function isHttpError(error: unknown): error is HttpError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(HTTP_ERROR_CODES, code);
}
