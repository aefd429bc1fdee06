import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { Role } from "../auth/auth-types.js";
import { base32Decode } from "../auth/base32.js";
import { hotp, TOTP_PERIOD_MS, totpStep } from "../auth/totp.js";
import { parseServerConfig } from "../config/load-server-config.js";
import type { ServerConfigInput } from "../config/server-config.js";
import { startServer, type RunningServer } from "../serve/start-server.js";

export interface TestServerOverrides {
  /** Sections of node-mirth.toml; the API binds 127.0.0.1 on port 0 unless set here. */
  config?: ServerConfigInput;
  /** Environment overrides (PORT, TLS_CERT, ...) applied like the real server does. */
  env?: NodeJS.ProcessEnv;
  allowInsecureBind?: boolean;
  /** Reuse a data directory (restart tests); default a fresh temp dir removed at close. */
  dataDir?: string;
  /** The auth service's clock: move it to test session timeouts and lockout expiry. */
  clock?: () => number;
}

export interface TestUser {
  username: string;
  password: string;
  /** Base32 TOTP secret from the enrollment URI; undefined when MFA is not required. */
  totpSecret: string | undefined;
  otpauthUri: string | undefined;
  /**
   * Logs in over HTTP (`POST /api/users/_login`) with the password and a fresh TOTP code.
   * Codes are never reused (the server refuses replays): each call takes the next 30-s step
   * within the accepted drift, so two or three logins per user per step of the server clock.
   */
  login(): Promise<{ sessionId: string; cookie: string }>;
  /** The TOTP code a login would use next (consumes it). */
  nextTotp(): string;
}

export interface TestServer extends RunningServer, AsyncDisposable {
  dataDir: string;
  /** A local account with a random 24-character password, MFA enrolled (not yet confirmed). */
  createTestUser(options?: { role?: Role; username?: string }): Promise<TestUser>;
  /** Every log line the server wrote (JSON, already redacted). */
  logLines: RunningServer["logLines"];
  logs: string[];
}

/**
 * A real node-mirth on loopback, port 0, in a temp dir: `await using server = await
 * startTestServer()`. Closing stops the server and removes the temp dir.
 */
export async function startTestServer(overrides: TestServerOverrides = {}): Promise<TestServer> {
  const input = overrides.config ?? {};
  const raw = {
    ...input,
    api: { port: 0, https_port: 0, shutdown_timeout_ms: 2_000, ...input.api },
    logging: { level: "debug", ...input.logging },
  } as Record<string, unknown>;
  const env = overrides.env ?? {};
  const config = parseServerConfig(raw, { env, source: "test" });
  const temp: TempDir | undefined = overrides.dataDir === undefined ? await createTempDir("node-mirth-server-") : undefined;
  const dataDir = overrides.dataDir ?? temp!.path;
  const logs: string[] = [];
  const logDestination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs.push(...chunk.toString("utf8").split("\n").filter((line) => line !== ""));
      callback();
    },
  });
  let running: RunningServer;
  try {
    running = await startServer({
      config,
      dataDir,
      env: { ...env },
      allowInsecureBind: overrides.allowInsecureBind ?? false,
      logDestination,
      ...(overrides.clock === undefined ? {} : { clock: overrides.clock }),
    });
  } catch (error) {
    await temp?.remove();
    throw error;
  }
  const close = async () => {
    await running.close();
    await temp?.remove();
  };
  const clock = overrides.clock ?? Date.now;
  let users = 0;
  const createTestUser: TestServer["createTestUser"] = async (options = {}) => {
    const role = options.role ?? "admin";
    users += 1;
    const username = options.username ?? `${role}-${users}`;
    const password = randomBytes(18).toString("base64url");
    const created = await running.auth.createUser({ username, password, role });
    const totpSecret = created.otpauthUri === undefined ? undefined : new URL(created.otpauthUri).searchParams.get("secret") ?? undefined;
    let lastStep = Number.NEGATIVE_INFINITY;
    const nextTotp = () => {
      const secret = totpSecret === undefined ? undefined : base32Decode(totpSecret);
      if (secret === undefined) throw new Error(`${username} has no TOTP secret (mfa_required = false?)`);
      const at = clock();
      const now = totpStep(at);
      // The server accepts now-1..now+1 by its own clock, read a moment later: the step
      // before is used only while the next boundary is more than 5 s away.
      const earliest = (at % TOTP_PERIOD_MS) < TOTP_PERIOD_MS - 5_000 ? now - 1 : now;
      const step = Math.max(lastStep + 1, earliest);
      if (step > now + 1) {
        throw new Error(`${username} used every TOTP code the server accepts right now; move the clock or use another user`);
      }
      lastStep = step;
      return hotp(secret, { counter: step });
    };
    const login = async () => {
      const response = await fetch(`${running.httpsUrl ?? running.url}/api/users/_login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password, ...(totpSecret === undefined ? {} : { totp: nextTotp() }) }),
      });
      if (response.status !== 200) throw new Error(`login of ${username} failed: ${response.status} ${await response.text()}`);
      const { sessionId } = (await response.json()) as { sessionId: string };
      const cookie = (response.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      return { sessionId, cookie };
    };
    return { username, password, totpSecret, otpauthUri: created.otpauthUri, login, nextTotp };
  };
  return { ...running, dataDir, logs, createTestUser, close, [Symbol.asyncDispose]: close };
}
