import { Command, CommanderError, Option } from "commander";
import { isCertsError } from "../certs-error.js";
import { convertKeystore } from "../convert-keystore.js";
import { inspect } from "../inspect.js";
import { looksLikePem } from "../parse-pem.js";
import { readOperatorFile } from "../read-operator-file.js";
import { convertJson, formatConvert, formatInspect, inspectJson } from "./format-report.js";
import {
  readPassword,
  requirePassword,
  type PasswordContext,
  type PasswordSource,
} from "./password-source.js";

export interface CliIo extends PasswordContext {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** Exit codes: 0 done, 1 a certs error (or inspect found errors), 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

interface PasswordFlags {
  storePasswordEnv?: string;
  storePasswordFile?: string;
  keyPasswordEnv?: string;
  keyPasswordFile?: string;
  json?: boolean;
}

/**
 * node-mirth-certs, in-process: `argv` are the user's arguments (no node, no script).
 * Output goes through `io`, so tests run it without spawning.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  let json = false;
  const program = new Command("node-mirth-certs")
    .description("Convert Java keystores to PEM and inspect certificates for node-mirth")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  withPasswordOptions(program.command("convert"))
    .description(
      "write <alias>.key (PKCS#8, 0600), <alias>.crt (chain) and ca.crt from a JKS/JCEKS/PKCS12 keystore",
    )
    .argument("<keystore>", "the .jks, .jceks, .p12 or .pfx file")
    .requiredOption("-o, --out-dir <dir>", "where to write the PEM files")
    .option("-a, --alias <alias>", "the private-key entry, when the keystore has several")
    .action(async (keystore: string, flags: PasswordFlags & { outDir: string; alias?: string }) => {
      json = flags.json === true;
      const storePassword = await requirePassword(storeSource(flags), io, {
        ask: `store password for ${keystore}: `,
        flag: "--store-password",
      });
      const keyPassword = await readPassword(keySource(flags), io);
      const result = await convertKeystore(keystore, {
        storePassword,
        ...(keyPassword === undefined ? {} : { keyPassword }),
        ...(flags.alias === undefined ? {} : { alias: flags.alias }),
        outDir: flags.outDir,
      });
      io.stdout(json ? `${JSON.stringify(convertJson(result), null, 2)}\n` : formatConvert(result));
    });

  withPasswordOptions(program.command("inspect"))
    .description(
      "show what a PEM file or keystore holds: subjects, SANs, expiry, key match, problems",
    )
    .argument("<file>", "a PEM file or a .jks/.jceks/.p12/.pfx keystore")
    .addOption(
      new Option(
        "--passphrase-env <name>",
        "environment variable holding the PEM key passphrase",
      ).conflicts("passphraseFile"),
    )
    .option("--passphrase-file <path>", "file holding the PEM key passphrase")
    .action(
      async (
        file: string,
        flags: PasswordFlags & { passphraseEnv?: string; passphraseFile?: string },
      ) => {
        json = flags.json === true;
        const isKeystore = !looksLikePem(readOperatorFile(file, "inspected"));
        const storePassword = await readPassword(
          storeSource(flags),
          io,
          isKeystore ? `store password for ${file} (empty to skip): ` : undefined,
        );
        const keyPassword = await readPassword(keySource(flags), io);
        const passphrase = await readPassword(
          { env: flags.passphraseEnv, file: flags.passphraseFile },
          io,
        );
        const report = inspect(file, {
          ...(storePassword === undefined || storePassword === "" ? {} : { storePassword }),
          ...(keyPassword === undefined ? {} : { keyPassword }),
          ...(passphrase === undefined ? {} : { passphrase }),
        });
        io.stdout(
          json ? `${JSON.stringify(inspectJson(report), null, 2)}\n` : formatInspect(report),
        );
        if (report.problems.some((problem) => problem.severity === "error")) exitCode = EXIT_FAILED;
      },
    );

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (!isCertsError(error)) throw error;
    if (json)
      io.stdout(
        `${JSON.stringify({ error: { code: error.code, message: error.message } }, null, 2)}\n`,
      );
    else io.stderr(`node-mirth-certs: ${error.code}: ${error.message}\n`);
    return EXIT_FAILED;
  }
}

function withPasswordOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        "--store-password-env <name>",
        "environment variable holding the store password",
      ).conflicts("storePasswordFile"),
    )
    .option("--store-password-file <path>", "file holding the store password")
    .addOption(
      new Option(
        "--key-password-env <name>",
        "environment variable holding the key password, if it differs",
      ).conflicts("keyPasswordFile"),
    )
    .option("--key-password-file <path>", "file holding the key password, if it differs")
    .option("--json", "machine-readable output");
}

function storeSource(flags: PasswordFlags): PasswordSource {
  return { env: flags.storePasswordEnv, file: flags.storePasswordFile };
}

function keySource(flags: PasswordFlags): PasswordSource {
  return { env: flags.keyPasswordEnv, file: flags.keyPasswordFile };
}
