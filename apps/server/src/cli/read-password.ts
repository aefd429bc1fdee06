import { CliError } from "./cli-error.js";

export interface PasswordInput {
  /** Read all of standard input (`--password-stdin`). */
  readStdin: () => Promise<string>;
  /** Asks without echo; undefined when there is no terminal. */
  prompt: ((question: string) => Promise<string>) | undefined;
}

/**
 * A password from standard input (one trailing newline dropped, as `echo` adds it) or from
 * a hidden prompt. Never from an option: `ps` and shell history would keep it.
 */
export async function readPassword(
  input: PasswordInput,
  how: { fromStdin: boolean; question: string },
): Promise<string> {
  if (how.fromStdin) {
    const text = (await input.readStdin()).replace(/\r?\n$/, "");
    if (text === "") throw new CliError("ERR_CLI_PASSWORD_UNAVAILABLE", "--password-stdin read an empty password.");
    return text;
  }
  if (input.prompt === undefined) {
    throw new CliError(
      "ERR_CLI_PASSWORD_UNAVAILABLE",
      "no terminal to ask for the password on; pipe it with --password-stdin.",
    );
  }
  return input.prompt(how.question);
}
