import { Argument, Option, type Command } from "commander";
import { z } from "zod";
import type { ApiClient } from "../api-client.js";
import { createUserResponseSchema, userResponseSchema } from "../../auth/auth-schemas.js";
import { CliError } from "../cli-error.js";
import type { CliContext } from "../cli-context.js";
import { formatTable, formatTime } from "../format-table.js";
import { ROLES } from "../../auth/auth-types.js";
import { readPassword } from "../read-password.js";

type ApiUser = z.infer<typeof userResponseSchema>;

export function registerUserCommands(program: Command, context: CliContext): void {
  const users = program.command("users").description("local accounts (admin only)");

  users
    .command("add")
    .description("create a user; prints the otpauth:// URI to enrol their authenticator app")
    .argument("<username>", "the new username")
    .addOption(new Option("-r, --role <role>", "what the user may do").choices(ROLES).makeOptionMandatory())
    .option("--password-stdin", "read the new user's password from standard input instead of asking")
    .action(async (username: string, flags: { role: string; passwordStdin?: boolean }) => {
      const client = await context.sessionClient();
      const password = await readPassword(context.io, {
        fromStdin: flags.passwordStdin === true,
        question: `new password for ${username} (at least 12 characters): `,
      });
      const created = await client.call({
        method: "POST",
        path: "/api/users",
        body: { username, password, role: flags.role },
        schema: createUserResponseSchema,
      });
      context.print(created, () =>
        `created ${created.user.username} (${created.user.role})\n${
          created.otpauthUri === undefined
            ? ""
            : `enrol the authenticator app with this URI (it holds the TOTP secret: give it to ${created.user.username} only):\n${created.otpauthUri}\n`
        }`,
      );
    });

  users
    .command("list")
    .description("every user with their role")
    .action(async () => {
      const client = await context.sessionClient();
      const list = await listUsers(client);
      context.print(list, () =>
        formatTable(
          [
            { header: "id", value: (row: ApiUser) => String(row.id) },
            { header: "username", value: (row: ApiUser) => row.username },
            { header: "role", value: (row: ApiUser) => row.role },
            { header: "mfa", value: (row: ApiUser) => (row.mfaEnrolled ? "enrolled" : row.mfaPending ? "pending" : "none") },
            { header: "locked until", value: (row: ApiUser) => (row.lockedUntil === undefined ? "" : formatTime(row.lockedUntil)) },
          ],
          list,
        ),
      );
    });

  users
    .command("set-role")
    .description("change what a user may do")
    .argument("<username>", "the user")
    .addArgument(new Argument("<role>", "the new role").choices(ROLES))
    .action(async (username: string, role: string) => {
      const client = await context.sessionClient();
      const user = (await listUsers(client)).find((candidate) => candidate.username === username);
      if (user === undefined) {
        throw new CliError("ERR_CLI_USER_NOT_FOUND", `no user is named ${JSON.stringify(username)}; see \`mirth-cli users list\`.`);
      }
      const updated = await client.call({
        method: "PUT",
        path: `/api/users/${user.id}`,
        body: { role },
        schema: userResponseSchema,
      });
      context.print(updated, () => `${username} is now ${role}\n`);
    });
}

function listUsers(client: ApiClient): Promise<ApiUser[]> {
  return client.call({ method: "GET", path: "/api/users", schema: z.array(userResponseSchema) });
}
