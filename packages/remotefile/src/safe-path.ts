import { posix } from "node:path";
import { RemoteFileError } from "./errors.js";

function unsafe(what: string, reason: string): RemoteFileError {
  // The name itself is not echoed: it may come from message content or a hostile server.
  return new RemoteFileError("ERR_REMOTEFILE_UNSAFE_PATH", `${what} refused: ${reason}`, { details: { what, reason } });
}

/**
 * One path segment: a file name from a template, a listing or a source map. Refuses empty,
 * `.`, `..`, NUL, and any separator (`/`, `\`), so the name cannot leave its directory.
 */
export function assertSafeName(name: string, what = "file name"): string {
  if (name.includes("\0")) throw unsafe(what, "it contains a NUL character");
  if (name === "" || name === "." || name === "..") throw unsafe(what, "it is empty, '.' or '..'");
  if (name.includes("/") || name.includes("\\")) throw unsafe(what, "it contains a path separator");
  return name;
}

/**
 * A directory path (configured, or rendered from a template): absolute or relative as the
 * scheme allows, but never with a `..` segment or NUL. Returned normalized, POSIX style.
 */
export function assertSafeDirectory(path: string, what = "directory"): string {
  if (path.includes("\0")) throw unsafe(what, "it contains a NUL character");
  if (path.trim() === "") throw unsafe(what, "it is empty");
  if (path.split(/[\\/]/).includes("..")) throw unsafe(what, "it contains a '..' segment");
  if (path.includes("\\")) throw unsafe(what, "it contains a backslash");
  return posix.normalize(path);
}

/** A path below `directory` given relative segments (a recursive listing's sub-path); each segment is checked. */
export function joinInside(directory: string, relative: string): string {
  const segments = relative.split("/").filter((segment) => segment !== "");
  for (const segment of segments) assertSafeName(segment, "path segment");
  return posix.join(directory, ...segments);
}
