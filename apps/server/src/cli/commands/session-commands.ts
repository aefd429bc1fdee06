import type { Command } from "commander";
import { z } from "zod";
import { loginResponseSchema } from "../../auth/auth-schemas.js";
import { CliError } from "../cli-error.js";
import type { CliContext } from "../cli-context.js";
import { readPassword } from "../read-password.js";

interface LoginFlags {
  username: string;
  passwordStdin?: boolean;
  totp?: string;
}

/** Server codes that mean "right password, now the TOTP code". */
const NEEDS_TOTP = /MFA|TOTP/;

export function registerSessionCommands(program: Command, context: CliContext): void {
  program
    .command("login")
    .description("log in and keep the session in ~/.config/node-mirth/session.json (mode 0600)")
    .requiredOption("-u, --username <name>", "your node-mirth username")
    .option("--password-stdin", "read the password from standard input instead of asking")
    .option("--totp <code>", "the 6-digit code from your authenticator app")
    .action(async (flags: LoginFlags) => {
      const client = context.anonymousClient();
      const password = await readPassword(context.io, {
        fromStdin: flags.passwordStdin === true,
        question: `password for ${flags.username}: `,
      });
      const attempt = (totp: string | undefined) =>
        client.call({
          method: "POST",
          path: "/api/users/_login",
          body: { username: flags.username, password, ...(totp === undefined ? {} : { totp }) },
          schema: loginResponseSchema,
        });
      let answer;
      try {
        answer = await attempt(flags.totp);
      } catch (error) {
        const askable = flags.totp === undefined && context.io.prompt !== undefined;
        if (!(askable && error instanceof CliError && NEEDS_TOTP.test(error.code))) throw error;
        answer = await attempt(await context.io.prompt!("TOTP code: "));
      }
      await context.sessionFile.put(client.baseUrl, {
        sessionId: answer.sessionId,
        username: answer.user.username,
        role: answer.user.role,
        createdAt: new Date().toISOString(),
      });
      // The session id is a credential: it goes to the 0600 file, never to the output.
      context.print(
        { url: client.baseUrl, user: { username: answer.user.username, role: answer.user.role } },
        () => `logged in to ${client.baseUrl} as ${answer.user.username} (${answer.user.role})\n`,
      );
    });

  program
    .command("logout")
    .description("end the session on the server and forget it locally")
    .action(async () => {
      const baseUrl = context.baseUrl();
      const stored = await context.sessionFile.get(baseUrl);
      if (stored === undefined) {
        context.print({ url: baseUrl, loggedOut: false }, () => `not logged in to ${baseUrl}\n`);
        return;
      }
      try {
        const client = await context.sessionClient();
        await client.call({ method: "POST", path: "/api/users/_logout", schema: z.undefined() });
      } catch (error) {
        // An expired session is as good as ended; anything else is reported, the local copy kept.
        if (!(error instanceof CliError && error.status === 401)) throw error;
      }
      await context.sessionFile.remove(baseUrl);
      context.print({ url: baseUrl, loggedOut: true }, () => `logged out of ${baseUrl}\n`);
    });
}
