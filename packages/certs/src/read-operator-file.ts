import { readFileSync } from "node:fs";
import { CertsError } from "./certs-error.js";

/**
 * Reads a file an operator pointed us at, turning the filesystem's errors into ones that
 * name the file, the setting it came from and what to do about it. Synchronous on purpose:
 * TLS options are built once at start, and `tls.createServer` wants buffers up front.
 */
export function readOperatorFile(path: string, role: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new CertsError(
        "ERR_CERTS_FILE_NOT_FOUND",
        `${role} file ${path} does not exist; check the path (relative paths resolve from ${process.cwd()}).`,
        { cause: error, details: { file: path } },
      );
    }
    throw new CertsError(
      "ERR_CERTS_FILE_UNREADABLE",
      `${role} file ${path} cannot be read (${code ?? "unknown error"}); check that it is a file and that the node-mirth user may read it.`,
      { cause: error, details: { file: path } },
    );
  }
}
