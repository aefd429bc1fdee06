import type { Command } from "commander";
import { healthResponseSchema } from "../api-responses.js";
import { CliError } from "../cli-error.js";
import type { CliContext } from "../cli-context.js";
import { formatFields } from "../format-table.js";

export function registerHealthCommand(program: Command, context: CliContext): void {
  program
    .command("health")
    .description("readiness of the server (no login needed); exit 8 when it is not ready")
    .option("--live", "liveness only: the process answers")
    .action(async (flags: { live?: boolean }) => {
      const client = context.anonymousClient();
      const path = flags.live === true ? "/api/health/live" : "/api/health";
      let body;
      try {
        body = await client.call({ method: "GET", path, schema: healthResponseSchema });
      } catch (error) {
        if (!(error instanceof CliError && error.status === 503)) throw error;
        throw new CliError("ERR_CLI_UNHEALTHY", `${client.baseUrl} is not ready: ${error.message}`, {
          status: 503,
          details: error.details,
          cause: error,
        });
      }
      context.print({ url: client.baseUrl, ...body }, () =>
        formatFields([
          ["url", client.baseUrl],
          ...Object.entries(body).map(([name, value]) => [name, typeof value === "string" ? value : JSON.stringify(value)] as const),
        ]),
      );
    });
}
