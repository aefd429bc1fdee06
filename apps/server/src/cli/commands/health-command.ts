import type { Command } from "commander";
import { healthResponseSchema } from "../../api/api-schemas.js";
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
        const checks = healthResponseSchema.safeParse(error.details).data?.checks;
        throw new CliError("ERR_CLI_UNHEALTHY", `${client.baseUrl} is not ready: ${error.message}${checks === undefined ? "" : ` (${describeChecks(checks)})`}`, {
          status: 503,
          details: error.details,
          cause: error,
        });
      }
      const { checks } = body;
      context.print({ url: client.baseUrl, ...body }, () =>
        formatFields([
          ["url", client.baseUrl],
          ["status", body.status],
          ...(checks === undefined ? [] : Object.entries(checks).map(([name, ok]) => [name, ok ? "ok" : "FAILING"] as const)),
        ]),
      );
    });
}

function describeChecks(checks: Record<string, boolean>): string {
  return Object.entries(checks)
    .map(([name, ok]) => `${name} ${ok ? "ok" : "FAILING"}`)
    .join(", ");
}
