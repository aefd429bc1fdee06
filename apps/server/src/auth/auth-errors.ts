import { NodeMirthError, type NodeMirthErrorOptions } from "@node-mirth/core";

/**
 * The catalogue of auth error codes. S-API maps each to its HTTP status in
 * `src/api/error-status.ts`; the README error table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const AUTH_ERROR_CODES = {
  ERR_AUTH_REQUIRED: "No session: log in and send the JSESSIONID cookie or the X-Session-ID header.",
  ERR_AUTH_SESSION_EXPIRED: "The session ended (idle or absolute timeout, or logout); log in again.",
  ERR_AUTH_INVALID_CREDENTIALS: "Username, password or TOTP code is wrong.",
  ERR_AUTH_MFA_REQUIRED: "This account needs a TOTP code from its authenticator app to log in.",
  ERR_AUTH_LOCKED_OUT: "Too many failed logins: the account is locked for a while; try later.",
  ERR_AUTH_WEAK_PASSWORD: "The password is shorter than the configured minimum (never below 12).",
  ERR_AUTH_INVALID_INPUT: "The request body or username is not valid.",
  ERR_AUTH_USER_EXISTS: "A user with this username already exists.",
  ERR_AUTH_USER_NOT_FOUND: "No user with this id or username exists.",
  ERR_AUTH_LAST_ADMIN: "The change would leave no admin account.",
  ERR_AUTH_FORBIDDEN: "Only an admin, or the account itself, may do this.",
  ERR_AUTH_DATABASE_TOO_NEW: "server.db was written by a newer node-mirth (schema version); upgrade node-mirth.",
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERROR_CODES;

/** Every error the auth layer throws on purpose; recognized by `code`. */
export class AuthError extends NodeMirthError {
  constructor(code: AuthErrorCode, message?: string, options?: NodeMirthErrorOptions) {
    super(code, message ?? AUTH_ERROR_CODES[code], options);
  }
}
