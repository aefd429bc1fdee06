import { isNodeMirthError } from "@node-mirth/core";
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { CliContext, type CliIo, type GlobalOptions } from "./cli-context.js";
import { EXIT, exitCodeForError } from "./exit-codes.js";
import { registerCertsCommands } from "./commands/certs-commands.js";
import { registerChannelCommands } from "./commands/channel-commands.js";
import { registerHealthCommand } from "./commands/health-command.js";
import { registerMessageCommands } from "./commands/message-commands.js";
import { registerQueueCommands } from "./commands/queue-commands.js";
import { registerSessionCommands } from "./commands/session-commands.js";
import { registerUserCommands } from "./commands/user-commands.js";

function timeoutMs(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1) throw new InvalidArgumentError("milliseconds, a whole number from 1 up");
  return ms;
}

/**
 * mirth-cli, in-process: `argv` are the user's arguments (no node, no script). Returns the
 * exit code (see EXIT); output goes through `io`.
 */
export async function runMirthCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = new Command("mirth-cli")
    .description("Operate a node-mirth server: channels, messages, queues, users, certificates")
    .option("--url <url>", "server base URL (default $MIRTH_URL, else http://127.0.0.1:8080)")
    .option("--json", "machine-readable JSON on standard output (errors too)")
    .option("--timeout <ms>", "give up on the server after this long (default 30000)", timeoutMs)
    .option("--ca <file>", "CA bundle PEM that issued the server's certificate (or NODE_EXTRA_CA_CERTS)")
    .option("--cert <file>", "client certificate chain PEM, when the API requires mTLS")
    .option("--key <file>", "the client certificate's private key PEM")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError("(add --help for usage)");
  const context = new CliContext(io, () => program.opts<GlobalOptions>());

  registerSessionCommands(program, context);
  registerChannelCommands(program, context);
  registerMessageCommands(program, context);
  registerQueueCommands(program, context);
  registerUserCommands(program, context);
  registerCertsCommands(program, context, (code) => {
    exitCode = code;
  });
  registerHealthCommand(program, context);
  program.commands.forEach(function exitOverrideEverywhere(command: Command): void {
    command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    command.commands.forEach(exitOverrideEverywhere);
  });

  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (error) {
    // Commander already printed usage errors and help.
    if (error instanceof CommanderError) return exitCodeForError(error);
    report(error, { io, json: context.json });
    return exitCodeForError(error);
  }
}

function report(error: unknown, where: { io: CliIo; json: boolean }): void {
  const code = isNodeMirthError(error) ? error.code : "ERR_CLI_INTERNAL";
  const message = error instanceof Error ? error.message : String(error);
  const exit = exitCodeForError(error);
  if (where.json) {
    const details = isNodeMirthError(error) && Object.keys(error.details).length > 0 ? { details: error.details } : {};
    where.io.stdout(`${JSON.stringify({ error: { code, message, exitCode: exit, ...details } }, null, 2)}\n`);
    return;
  }
  where.io.stderr(`mirth-cli: ${code}: ${message}\n`);
  if (exit === EXIT.unauthenticated && code !== "ERR_CLI_NOT_LOGGED_IN") {
    where.io.stderr("mirth-cli: the session has ended or was refused; run `mirth-cli login` again.\n");
  }
  // A bug, not an operator's problem: the stack helps whoever reports it.
  if (!isNodeMirthError(error) && error instanceof Error && error.stack !== undefined) where.io.stderr(`${error.stack}\n`);
}
