import { createEngine, MemoryStore } from "@node-mirth/core";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createAuditLog } from "../../audit/audit-log.js";
import type { AuditLog } from "../../audit/audit-types.js";
import { authConfigSchema } from "../../auth/auth-config.js";
import { createAuthService } from "../../auth/auth-service.js";
import type { AuthService } from "../../auth/auth-types.js";
import { base32Decode } from "../../auth/base32.js";
import { openServerDatabase } from "../../auth/server-database.js";
import { totpCode } from "../../auth/totp.js";
import { createFileChannelRepository } from "../channel-repository.js";
import { createApiApp, type ApiApp } from "../create-api-app.js";
import { callApi, sinkChannel } from "./api-fixtures.js";

/*
 * createApiApp on its own (real engine on a MemoryStore, real auth service and audit log),
 * to break one dependency at a time: the audit log, the store, the channel directory.
 */
describe("API when a dependency fails", () => {
  let temp: TempDir;
  let db: DatabaseSync;
  let store: MemoryStore;
  let auth: AuthService;
  let api: ApiApp;
  let server: Server;
  let url: string;
  let session: string;
  const logs: string[] = [];

  const start = async (options: { audit: AuditLog; channelsDir: string }) => {
    const engine = createEngine({ store });
    const logger = pino({ level: "debug" }, new Writable({ write: (chunk: Buffer, _encoding, done) => { logs.push(chunk.toString("utf8")); done(); } }));
    api = createApiApp({
      engine,
      store,
      auth,
      audit: options.audit,
      channelRepository: createFileChannelRepository(options.channelsDir),
      serverInfo: { version: "0.0.0-test", startedAt: Date.now() },
      logger,
    });
    server = createServer(api);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const password = "a-long-enough-password";
    const created = await auth.createUser({ username: "failure-admin", password, role: "admin" });
    const secret = base32Decode(new URL(created.otpauthUri!).searchParams.get("secret")!)!;
    const login = await callApi(url, { method: "POST", path: "/api/users/_login", body: { username: "failure-admin", password, totp: totpCode(secret, Date.now()) } });
    expect(login.status).toBe(200);
    session = (login.body as { sessionId: string }).sessionId;
  };

  beforeEach(async () => {
    temp = await createTempDir("api-failures-");
    db = openServerDatabase(":memory:");
    store = new MemoryStore();
    logs.length = 0;
  });

  afterEach(async () => {
    api?.close();
    auth?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    db.close();
    await temp.remove();
  });

  it("still answers a change whose audit entry cannot be written, and logs the failure loudly", async () => {
    const audit = createAuditLog(db);
    auth = createAuthService({ db, config: authConfigSchema.parse({}), audit, env: {} });
    const failing: AuditLog = { ...audit, append: () => { throw new Error("disk full"); } };
    await start({ audit: failing, channelsDir: temp.path });
    const created = await callApi(url, { method: "POST", path: "/api/channels", sessionId: session, body: sinkChannel("unaudited") });
    expect(created.status).toBe(201);
    await expect.poll(() => logs.find((line) => line.includes("audit entry could not be written"))).toBeDefined();
    const line = JSON.parse(logs.find((entry) => entry.includes("audit entry could not be written"))!) as { level: number; action: string; actor: string };
    expect(line).toMatchObject({ level: 50, action: "channel.create", actor: "failure-admin" });
  });

  it("reports not ready (503, store: false) once the store is closed, and maps the store's error", async () => {
    const audit = createAuditLog(db);
    auth = createAuthService({ db, config: authConfigSchema.parse({}), audit, env: {} });
    await start({ audit, channelsDir: temp.path });
    expect((await callApi(url, { method: "GET", path: "/api/health" })).status).toBe(200);
    await store.close();
    expect(await callApi(url, { method: "GET", path: "/api/health" })).toMatchObject({
      status: 503,
      body: { status: "unavailable", code: "ERR_API_NOT_READY", checks: { store: false } },
    });
    expect(await callApi(url, { method: "GET", path: "/api/channels/any/messages", sessionId: session })).toMatchObject({
      status: 503,
      body: { code: "ERR_STORE_CLOSED" },
    });
  });

  it("answers an unexpected error as 500 ERR_API_INTERNAL without its details, which go to the log", async () => {
    const audit = createAuditLog(db);
    auth = createAuthService({ db, config: authConfigSchema.parse({}), audit, env: {} });
    const missing = join(temp.path, "no-such-directory");
    await start({ audit, channelsDir: missing });
    const answer = await callApi(url, { method: "GET", path: "/api/channels", sessionId: session });
    expect(answer).toMatchObject({ status: 500, body: { code: "ERR_API_INTERNAL" } });
    expect(JSON.stringify(answer.body)).not.toContain("no-such-directory");
    expect(logs.some((line) => line.includes("API request failed") && line.includes("no-such-directory"))).toBe(true);
  });
});
