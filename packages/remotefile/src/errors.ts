import { NodeMirthError, type NodeMirthErrorOptions } from "@node-mirth/core";

/**
 * The one catalogue of this package's error codes. Codes are stable API: operators search
 * for them, the engine recognizes them, and the README table is tested against this list.
 * Append new codes; never rename or reuse one.
 */
export const REMOTEFILE_ERROR_CODES = {
  ERR_REMOTEFILE_INVALID_OPTIONS: "Reader, writer or connection options are invalid (missing directory, move without a target, bad pattern).",
  ERR_REMOTEFILE_UNSAFE_PATH: "A file or directory name contains '..', NUL, a separator where one name was expected, or is absolute where a relative name was expected; nothing was read or written.",
  ERR_REMOTEFILE_HOST_KEY_UNKNOWN: "The SFTP server's host key is neither in knownHostsPath nor pinned by hostKeySha256; the connection was refused.",
  ERR_REMOTEFILE_HOST_KEY_MISMATCH: "The SFTP server presented a host key other than the one known or pinned for it; the connection was refused (possible man in the middle).",
  ERR_REMOTEFILE_CLEARTEXT_CREDENTIALS: "Plain FTP with a user name or password was refused: credentials would cross the network in cleartext. Use ftps, or MIRTH_ALLOW_INSECURE_TLS=1 for development.",
  ERR_REMOTEFILE_CONNECT_FAILED: "Could not connect or log in to the file server (refused, timed out, TLS or SSH handshake failed, authentication failed).",
  ERR_REMOTEFILE_TRANSFER_FAILED: "A read, write, list, rename or delete failed on the file system or server, or the connection dropped mid-transfer.",
  ERR_REMOTEFILE_FILE_EXISTS: "The writer's fileExists policy is 'error' and the target file already exists.",
  ERR_REMOTEFILE_FILE_TOO_LARGE: "A file is larger than maxFileBytes for a whole-file message; it was left or moved to the error directory.",
  ERR_REMOTEFILE_FILE_CHANGED: "A file changed (size or modification time) while it was being read; it was not acknowledged and will be read again.",
  ERR_REMOTEFILE_LEDGER_FAILED: "The processed-file ledger (SQLite) could not be opened or written; the file was not acknowledged.",
} as const;

export type RemoteFileErrorCode = keyof typeof REMOTEFILE_ERROR_CODES;

/** Every error this package throws on purpose. Messages state facts, never file content. */
export class RemoteFileError extends NodeMirthError {
  declare readonly code: RemoteFileErrorCode;

  constructor(code: RemoteFileErrorCode, message: string, options: NodeMirthErrorOptions = {}) {
    super(code, message, options);
  }
}

/** True for an error of this package, including one from another copy of it. */
export function isRemoteFileError(error: unknown): error is RemoteFileError {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === "string" && Object.hasOwn(REMOTEFILE_ERROR_CODES, code);
}

/** Wraps a low-level failure (fs, ssh2, basic-ftp) as ERR_REMOTEFILE_TRANSFER_FAILED, keeping ours as they are. */
export function transferError(action: string, cause: unknown): RemoteFileError {
  if (isRemoteFileError(cause)) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RemoteFileError("ERR_REMOTEFILE_TRANSFER_FAILED", `${action} failed: ${reason}`, { cause, details: { action } });
}
