import { NodeMirthError, type NodeMirthErrorOptions } from "@node-mirth/core";

/**
 * The API's own error codes. Stable: mirth-cli maps them to exit codes and operators search
 * for them. Append new codes; never rename or reuse one. Their HTTP statuses are in
 * error-status.ts, the one place codes become statuses.
 */
export const API_ERROR_CODES = {
  ERR_API_NOT_FOUND: "No API route has this method and path.",
  ERR_API_FORBIDDEN: "The session's role may not call this route.",
  ERR_API_INVALID_REQUEST: "The body, query or path parameters failed validation; details.issues lists every problem.",
  ERR_API_MALFORMED_JSON: "The request body is not valid JSON.",
  ERR_API_BODY_TOO_LARGE: "The request body is larger than the route accepts.",
  ERR_API_UNSUPPORTED_MEDIA_TYPE: "A request body must be application/json.",
  ERR_API_CHANNEL_NOT_FOUND: "No saved channel has this id.",
  ERR_API_CHANNEL_EXISTS: "A channel with this id already exists; update it with PUT instead.",
  ERR_API_CHANNEL_ID_MISMATCH: "The id in the channel document differs from the id in the path.",
  ERR_API_NOT_READY: "The server is not ready: the store is unreachable or a saved channel is not running.",
  ERR_API_INTERNAL: "An unexpected server error; the server log has the details.",
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

/** An error the API raises itself; never carries message content (PHI). */
export class ApiError extends NodeMirthError {
  declare readonly code: ApiErrorCode;

  constructor(code: ApiErrorCode, message: string, options: NodeMirthErrorOptions = {}) {
    super(code, message, options);
  }
}
