import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createAuditLog } from "../audit/audit-log.js";
import { createAuthService } from "../auth/auth-service.js";
import { ROLES, type Role } from "../auth/auth-types.js";
import { openServerDatabase } from "../auth/server-database.js";
import { loadServerConfig } from "../config/load-server-config.js";
import { EXIT, isConfigurationRefusal } from "./exit-status.js";
import { DEFAULT_DATA_DIR } from "./serve-command.js";

export interface AdminCreateOptions {
  username: string;
  role: string;
  passwordStdin?: boolean;
  config?: string;
}

/**
 * `node-mirth admin create`: the first-run account, written straight into the server's
 * server.db (the server may be running; SQLite WAL lets both in). The password comes from
 * stdin only, never from an argument (shell history, `ps`); the command prints the
 * otpauth:// URI to enrol in an authenticator app, which is the only time the secret is shown.
 */
export async function runAdminCreate(options: AdminCreateOptions, stdin: NodeJS.ReadableStream = process.stdin): Promise<number> {
  if (options.passwordStdin !== true) {
    process.stderr.write("node-mirth admin create: pass --password-stdin and pipe the password in (it is never taken as an argument)\n");
    return EXIT.refused;
  }
  if (!(ROLES as readonly string[]).includes(options.role)) {
    process.stderr.write(`node-mirth admin create: --role must be one of ${ROLES.join(", ")}\n`);
    return EXIT.refused;
  }
  let config;
  try {
    config = loadServerConfig({ ...(options.config === undefined ? {} : { file: options.config }), env: process.env });
  } catch (error) {
    if (!isConfigurationRefusal(error)) throw error;
    process.stderr.write(`node-mirth: ${(error as Error).message}\n`);
    return EXIT.refused;
  }
  const password = stripOneLineEnd(await readAll(stdin));
  const dataDir = resolve(config.store.path ?? DEFAULT_DATA_DIR);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const db = openServerDatabase(join(dataDir, "server.db"));
  const audit = createAuditLog(db);
  const auth = createAuthService({ db, config: config.auth, audit, env: process.env });
  try {
    const created = await auth.createUser({ username: options.username, password, role: options.role as Role });
    audit.append({ actor: "node-mirth admin create", action: "user.create", target: created.user.username, outcome: "success", details: { role: created.user.role } });
    process.stdout.write(`created ${created.user.role} ${created.user.username}\n`);
    if (created.otpauthUri !== undefined) {
      process.stdout.write(`Enrol this in an authenticator app; the first login verifies a code from it:\n${created.otpauthUri}\n`);
    }
    return EXIT.ok;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    audit.append({ actor: "node-mirth admin create", action: "user.create", target: options.username, outcome: "failure", details: { code: typeof code === "string" ? code : "unknown" } });
    process.stderr.write(`node-mirth admin create: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.failed;
  } finally {
    auth.close();
    db.close();
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

/** `echo pass |` adds one line end that is not part of the password; only that one goes. */
function stripOneLineEnd(text: string): string {
  return text.replace(/\r?\n$/, "");
}
