import express, { type ErrorRequestHandler } from "express";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { httpStatusOf } from "../../api/error-status.js";
import { createAuditLog } from "../../audit/audit-log.js";
import type { AuditLog } from "../../audit/audit-types.js";
import { authConfigSchema, type AuthConfigInput } from "../auth-config.js";
import { createAuthService } from "../auth-service.js";
import type { AuthService, Role } from "../auth-types.js";
import { base32Decode } from "../base32.js";
import { openServerDatabase } from "../server-database.js";
import { totpCode } from "../totp.js";
import type { DatabaseSync } from "node:sqlite";

/**
 * The auth handlers mounted the way S-API mounts them (login body parsed before
 * authentication with a small limit, everything else behind `authenticate`), on a real
 * HTTP server on port 0, with the server's one code → status table.
 */
export interface AuthTestApp extends AsyncDisposable {
  url: string;
  server: Server;
  auth: AuthService;
  audit: AuditLog;
  db: DatabaseSync;
  /** The injected clock; tests move it with `advance`. */
  now(): number;
  advance(ms: number): void;
  /** A user created through the service, with the raw TOTP secret from its enrollment URI. */
  addUser(options: { username: string; role: Role; password?: string }): Promise<{ id: number; password: string; secret?: Buffer }>;
  /** The current code, after moving the clock to a fresh 30 s step so codes are never replays. */
  freshCode(secret: Buffer): string;
  call(path: string, init?: { method?: string; body?: unknown; sessionId?: string; cookie?: string }): Promise<Response>;
  close(): Promise<void>;
}

export interface AuthTestAppOptions {
  config?: AuthConfigInput;
  env?: NodeJS.ProcessEnv;
  /** Use the wall clock (for expiry timers that must really fire); `advance` then does nothing useful. */
  realClock?: boolean;
}

export async function startAuthTestApp(options: AuthTestAppOptions = {}): Promise<AuthTestApp> {
  let now = Date.UTC(2026, 0, 1, 8, 0, 0);
  const clock = options.realClock === true ? Date.now : () => now;
  const db = openServerDatabase(":memory:");
  const audit = createAuditLog(db, { clock });
  const auth = createAuthService({ db, config: authConfigSchema.parse(options.config ?? {}), audit, clock, env: options.env ?? {} });
  const { handlers } = auth;

  const app = express();
  app.post("/api/users/_login", express.json({ limit: 4096 }), handlers.login);
  app.use("/api", auth.authenticate, express.json({ limit: 65_536 }));
  app.post("/api/users/_logout", handlers.logout);
  app.get("/api/users/current", handlers.current);
  app.post("/api/users/current/_enrollMfa", handlers.enrollMfa);
  app.get("/api/users", handlers.listUsers);
  app.post("/api/users", handlers.createUser);
  app.get("/api/users/:userId", handlers.getUser);
  app.put("/api/users/:userId", handlers.updateUser);
  app.delete("/api/users/:userId", handlers.deleteUser);
  app.post("/api/users/:userId/_enrollMfa", handlers.enrollMfa);
  // eslint-disable-next-line max-params -- express knows an error handler by its four parameters
  const onError: ErrorRequestHandler = (error: { code?: string; message: string; status?: number }, _req, res, _next) => {
    const status = error.code === undefined ? (error.status ?? 500) : httpStatusOf(error.code);
    res.status(status).json({ code: error.code ?? "ERR_TEST_UNMAPPED", message: error.message });
  };
  app.use(onError);

  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const close = async () => {
    auth.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
  };

  return {
    url,
    server,
    auth,
    audit,
    db,
    now: clock,
    advance: (ms) => {
      now += ms;
    },
    async addUser({ username, role, password = "a long enough passphrase" }) {
      const created = await auth.createUser({ username, password, role });
      const secret = created.otpauthUri === undefined ? undefined : secretOf(created.otpauthUri);
      return { id: created.user.id, password, ...(secret === undefined ? {} : { secret }) };
    },
    freshCode(secret) {
      now += 30_000;
      return totpCode(secret, clock());
    },
    call(path, init = {}) {
      const headers: Record<string, string> = {};
      if (init.body !== undefined) headers["content-type"] = "application/json";
      if (init.sessionId !== undefined) headers["x-session-id"] = init.sessionId;
      if (init.cookie !== undefined) headers.cookie = init.cookie;
      return fetch(`${url}${path}`, {
        method: init.method ?? (init.body === undefined ? "GET" : "POST"),
        headers,
        ...(init.body === undefined ? {} : { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(10_000),
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

export function secretOf(otpauthUri: string): Buffer {
  return base32Decode(new URL(otpauthUri).searchParams.get("secret")!)!;
}
