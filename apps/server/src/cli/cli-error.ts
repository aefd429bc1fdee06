import { NodeMirthError, type NodeMirthErrorOptions } from "@node-mirth/core";

/**
 * The catalogue of mirth-cli's own error codes (the server's codes are passed through as
 * they come). Append new codes; never rename or reuse one. The README table is tested
 * against this list.
 */
export const CLI_ERROR_CODES = {
  ERR_CLI_NOT_LOGGED_IN: "No session for this server URL: run `mirth-cli login` first.",
  ERR_CLI_SESSION_FILE_UNSAFE:
    "The session file is readable by other users (mode not 0600); it is not used.",
  ERR_CLI_SERVER_UNREACHABLE: "The server did not answer (connection refused, DNS, TLS or timeout).",
  ERR_CLI_BAD_RESPONSE: "The server answered with something that is not the expected JSON.",
  ERR_CLI_CHANNEL_NOT_FOUND: "No channel has this id or name.",
  ERR_CLI_CHANNEL_AMBIGUOUS: "Several channels have this name; use the channel id.",
  ERR_CLI_USER_NOT_FOUND: "No user has this username.",
  ERR_CLI_INVALID_INPUT: "An argument, option or input file is not valid.",
  ERR_CLI_PASSWORD_UNAVAILABLE:
    "No password: pass --password-stdin or run in a terminal to be asked.",
  ERR_CLI_UNHEALTHY: "The server answered the health check as not ready.",
  ERR_CLI_INTERNAL: "mirth-cli failed unexpectedly (a bug): the stack trace follows; please report it.",
} as const;

export type CliErrorCode = keyof typeof CLI_ERROR_CODES;

export interface CliErrorOptions extends NodeMirthErrorOptions {
  /** HTTP status of the server answer the error comes from, when there was one. */
  status?: number;
}

/**
 * An error mirth-cli reports and maps to an exit code. `code` is one of CLI_ERROR_CODES,
 * or a server error code relayed from a `{ code, message }` body.
 */
export class CliError extends NodeMirthError {
  readonly status: number | undefined;

  constructor(code: CliErrorCode | (string & {}), message: string, options: CliErrorOptions = {}) {
    super(code, message, options);
    this.status = options.status;
  }
}
