import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runCommand } from "@node-mirth/test-peers";

/** The built binary, as an operator runs it (`pnpm turbo run build --filter=@node-mirth/server`). */
export const BUILT_CLI = fileURLToPath(new URL("../../../bin/mirth-cli.js", import.meta.url));
const BUILT_ENTRY = fileURLToPath(new URL("../../../dist/cli/mirth-cli.js", import.meta.url));

export function assertCliBuilt(): void {
  if (!existsSync(BUILT_ENTRY)) {
    throw new Error(`${BUILT_ENTRY} is missing: run \`pnpm turbo run build --filter=@node-mirth/server\` before these tests.`);
  }
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json: () => unknown;
}

/** Runs bin/mirth-cli.js in a child process with only the environment given (plus PATH). */
export async function runBuiltCli(
  args: readonly string[],
  options: { env: Record<string, string>; input?: string },
): Promise<CliRun> {
  const result = await runCommand(process.execPath, [BUILT_CLI, ...args], {
    env: { MIRTH_URL: undefined, MIRTH_ALLOW_INSECURE_TLS: undefined, ...options.env },
    input: options.input ?? "",
    timeoutMs: 20_000,
  });
  const stdout = result.stdout.toString("utf8");
  return {
    code: result.code,
    stdout,
    stderr: result.stderr.toString("utf8"),
    json: () => JSON.parse(stdout) as unknown,
  };
}
