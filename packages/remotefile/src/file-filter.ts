import { RemoteFileError } from "./errors.js";

/** Which file names a reader takes: comma-separated globs (`*.hl7,*.txt`) or one regular expression. */
export type FileNameMatcher = (name: string) => boolean;

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

/** Builds the matcher; a bad regular expression is ERR_REMOTEFILE_INVALID_OPTIONS at deploy. */
export function createFileNameMatcher(pattern: string, isRegex: boolean): FileNameMatcher {
  if (isRegex) {
    let regex: RegExp;
    try {
      regex = new RegExp(pattern);
    } catch (error) {
      throw new RemoteFileError("ERR_REMOTEFILE_INVALID_OPTIONS", `fileFilter is not a valid regular expression: ${(error as Error).message}`, { cause: error });
    }
    return (name) => regex.test(name);
  }
  const globs = pattern.split(",").map((g) => g.trim()).filter((g) => g !== "").map(globToRegExp);
  return (name) => globs.some((g) => g.test(name));
}
