import { Command, InvalidArgumentError } from "commander";
import { runAdminCreate } from "./commands/admin-create-command.js";
import { runSend } from "./commands/send-command.js";
import { runServe } from "./commands/serve-command.js";

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError("a port from 1 to 65535");
  return port;
}

const program = new Command("node-mirth")
  .description("node-mirth: a healthcare integration engine")
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

program
  .command("serve")
  .description("start the server (API, engine, channels saved in the data directory)")
  .option("-c, --config <file>", "node-mirth.toml; environment variables override it")
  .option("--allow-insecure-bind", "DEVELOPMENT ONLY: let the API and listeners bind off loopback without TLS")
  .option("--demo", "install the demo channels into the data directory when absent")
  .action(async (options: { config?: string; allowInsecureBind?: boolean; demo?: boolean }) => {
    process.exitCode = await runServe(options);
  });

program
  .command("admin")
  .description("administration on the server's own data directory")
  .command("create")
  .description("create a local account (the first admin at first run); prints the otpauth:// URI to enrol")
  .requiredOption("-u, --username <name>", "the new account's name")
  .option("--role <role>", "admin, developer, operator or viewer", "admin")
  .option("--password-stdin", "read the password from stdin (required: never an argument)")
  .option("-c, --config <file>", "the server's node-mirth.toml, for [store] path and [auth]")
  .action(async (options: { username: string; role: string; passwordStdin?: boolean; config?: string }) => {
    process.exitCode = await runAdminCreate(options);
  });

program
  .command("send")
  .description("send one HL7 v2 message (a file, or - for stdin) over MLLP and print the ACK")
  .argument("<file>", "the message; LF or CRLF line ends become CR")
  .option("--host <host>", "receiver host", "127.0.0.1")
  .option("--port <port>", "receiver port", portNumber, 6661)
  .option("--tls", "use TLS (the server certificate is verified)")
  .option("--ca <file>", "CA bundle PEM that issued the receiver's certificate")
  .option("--cert <file>", "client certificate PEM (mTLS)")
  .option("--key <file>", "client private key PEM (mTLS)")
  .action(async (file: string, options: { host: string; port: number; tls?: boolean; ca?: string; cert?: string; key?: string }) => {
    process.exitCode = await runSend(file, options);
  });

await program.parseAsync(process.argv);
