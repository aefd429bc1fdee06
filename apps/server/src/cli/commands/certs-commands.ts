import type { Command } from "commander";
import type { CliContext } from "../cli-context.js";

const SUBCOMMANDS = {
  convert: "JKS/JCEKS/PKCS12 keystore to PEM key, chain and CA files (node-mirth-certs convert)",
  inspect: "what a PEM file or keystore holds: subjects, SANs, expiry, key match (node-mirth-certs inspect)",
} as const;

/** Sets the exit code the certs CLI ended with; mirth-cli's own handling is bypassed. */
export type CertsExitSink = (code: number) => void;

/**
 * `certs convert|inspect`: every argument after the subcommand goes to node-mirth-certs
 * untouched (its options, its --help); `--json` given anywhere is passed on too.
 */
export function registerCertsCommands(program: Command, context: CliContext, setExit: CertsExitSink): void {
  const certs = program.command("certs").description("keystores and certificates (@node-mirth/certs)");
  for (const [name, description] of Object.entries(SUBCOMMANDS)) {
    certs
      .command(name)
      .description(description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument("[args...]", "arguments of node-mirth-certs " + name)
      .action(async (args: string[] | undefined) => {
        const passed = [...(args ?? [])];
        if (context.json && !passed.includes("--json")) passed.push("--json");
        setExit(await context.io.runCertsCli([name, ...passed]));
      });
  }
}
