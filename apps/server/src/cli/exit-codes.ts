import { isNodeMirthError } from "@node-mirth/core";
import { CommanderError } from "commander";
import { CliError } from "./cli-error.js";

/** mirth-cli exit statuses: stable, documented in the README, for scripts to branch on. */
export const EXIT = {
  ok: 0,
  /** A failure not covered below: the server's 5xx, a certs error, a bug. */
  failed: 1,
  /** Bad arguments or options (commander), an ambiguous channel name. */
  usage: 2,
  /** Not logged in, session expired or rejected (HTTP 401). */
  unauthenticated: 3,
  /** Logged in, but the role may not do this (HTTP 403). */
  forbidden: 4,
  /** The channel, message or user does not exist (HTTP 404). */
  notFound: 5,
  /** The server refused the request as invalid or conflicting (HTTP 400, 409, 413, 422). */
  rejected: 6,
  /** The server could not be reached, or answered with something that is not its API. */
  unreachable: 7,
  /** `health`: the server answered but is not ready (HTTP 503). */
  unhealthy: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CLI_CODE: Record<string, ExitCode> = {
  ERR_CLI_NOT_LOGGED_IN: EXIT.unauthenticated,
  ERR_CLI_SESSION_FILE_UNSAFE: EXIT.failed,
  ERR_CLI_SERVER_UNREACHABLE: EXIT.unreachable,
  ERR_CLI_BAD_RESPONSE: EXIT.unreachable,
  ERR_CLI_CHANNEL_NOT_FOUND: EXIT.notFound,
  ERR_CLI_USER_NOT_FOUND: EXIT.notFound,
  ERR_CLI_CHANNEL_AMBIGUOUS: EXIT.usage,
  ERR_CLI_INVALID_INPUT: EXIT.usage,
  ERR_CLI_PASSWORD_UNAVAILABLE: EXIT.usage,
  ERR_CLI_UNHEALTHY: EXIT.unhealthy,
};

/** The exit code for an HTTP error status from the API. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401) return EXIT.unauthenticated;
  if (status === 403) return EXIT.forbidden;
  if (status === 404) return EXIT.notFound;
  if (status === 503) return EXIT.unhealthy;
  if (status === 400 || status === 409 || status === 413 || status === 422) return EXIT.rejected;
  return EXIT.failed;
}

/** The one place an error becomes an exit code. */
export function exitCodeForError(error: unknown): ExitCode {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof CliError && error.status !== undefined) return exitCodeForStatus(error.status);
  if (isNodeMirthError(error)) {
    const mapped = BY_CLI_CODE[error.code];
    if (mapped !== undefined) return mapped;
    if (error.code === "ERR_POLICY_INSECURE_TLS") return EXIT.usage;
  }
  return EXIT.failed;
}
