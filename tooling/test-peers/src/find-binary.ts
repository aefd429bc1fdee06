import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Daemons (sshd, vsftpd) live in sbin, which a non-login PATH often lacks. */
const EXTRA_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** The absolute path of an executable named `name`, or undefined when none is installed. */
export function findBinary(name: string): string | undefined {
  if (name.includes("/")) return isExecutable(name) ? name : undefined;
  const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
