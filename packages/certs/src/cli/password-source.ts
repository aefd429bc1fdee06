import { readFile } from "node:fs/promises";
import { CertsError } from "../certs-error.js";

/** Where a password comes from: never the command line, where `ps` and shell history see it. */
export interface PasswordSource {
  /** Name of an environment variable holding it. */
  env: string | undefined;
  /** Path of a file holding it (one trailing newline is ignored). */
  file: string | undefined;
}

export interface PasswordContext {
  env: Record<string, string | undefined>;
  /** Asks without echo; undefined when stdin is not a terminal. */
  prompt: ((question: string) => Promise<string>) | undefined;
}

/**
 * The password from its env variable or file, else from the prompt when `ask` is given and
 * there is a terminal, else undefined.
 */
export async function readPassword(
  source: PasswordSource,
  context: PasswordContext,
  ask?: string,
): Promise<string | undefined> {
  if (source.env !== undefined) {
    const value = context.env[source.env];
    if (value === undefined) {
      throw new CertsError(
        "ERR_CERTS_PASSWORD_UNAVAILABLE",
        `environment variable ${source.env} is not set; export it or use a password file.`,
        { details: { variable: source.env } },
      );
    }
    return value;
  }
  if (source.file !== undefined) {
    try {
      return (await readFile(source.file, "utf8")).replace(/\r?\n$/, "");
    } catch (error) {
      throw new CertsError(
        "ERR_CERTS_PASSWORD_UNAVAILABLE",
        `password file ${source.file} cannot be read (${(error as NodeJS.ErrnoException).code ?? "unknown error"}); check the path and its permissions.`,
        { cause: error, details: { file: source.file } },
      );
    }
  }
  if (ask === undefined || context.prompt === undefined) return undefined;
  return context.prompt(ask);
}

/** Like readPassword, but a password must come from somewhere. */
export async function requirePassword(
  source: PasswordSource,
  context: PasswordContext,
  what: { ask: string; flag: string },
): Promise<string> {
  const password = await readPassword(source, context, what.ask);
  if (password === undefined) {
    throw new CertsError(
      "ERR_CERTS_PASSWORD_UNAVAILABLE",
      `no ${what.flag}-env or ${what.flag}-file given and no terminal to ask on; pass one of them.`,
      { details: { flag: what.flag } },
    );
  }
  return password;
}
