import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `mirth-cli certs ...` is `node-mirth-certs ...`: the certs package's own CLI, run as it is
 * (same options, output, exit codes 0/1/2), so the two never drift apart. Its bin is found
 * next to the resolved @node-mirth/certs entry; stdio is shared so password prompts work.
 */
export function runCertsCli(args: readonly string[]): Promise<number> {
  const certsEntry = fileURLToPath(import.meta.resolve("@node-mirth/certs"));
  const bin = join(dirname(certsEntry), "..", "bin", "node-mirth-certs.js");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (code) => resolve(code ?? 1));
  });
}
