import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startTestServer } from "../../__tests__/start-test-server.js";

describe("startServer", () => {
  it("opens the data directory and answers the health probes on loopback", async () => {
    await using server = await startTestServer();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const live = await fetch(`${server.url}/api/health/live`);
    expect(live.status).toBe(200);
    const files = readdirSync(server.dataDir);
    expect(files).toEqual(expect.arrayContaining(["channels", "messages.db", "server.db"]));
    expect(statSync(join(server.dataDir, "server.db")).mode & 0o077).toBe(0);
    expect(live.headers.get("x-powered-by")).toBeNull();
  });

  it("a graceful stop ends even with a stuck request: drained until the deadline, then cut", async () => {
    const { connect } = await import("node:net");
    const server = await startTestServer({ config: { api: { shutdown_timeout_ms: 200 } } });
    const { port } = new URL(server.url);
    const socket = connect(Number(port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    // Headers never finished: the request is in flight, not idle, so close() must cut it.
    socket.write("POST /api/channels HTTP/1.1\r\nHost: x\r\n");
    const cut = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    await server.close();
    await cut;
    expect(socket.destroyed).toBe(true);
    expect(server.logs.at(-1)).toContain("node-mirth stopped");
  });

  it("warns that MIRTH_CLUSTER_* variables are ignored in this build", async () => {
    await using server = await startTestServer({ env: { MIRTH_CLUSTER_REDIS_URL: "rediss://cache:6380" } });
    const warning = server.logs.find((line) => line.includes("MIRTH_CLUSTER_REDIS_URL"));
    expect(warning).toContain("ignored");
    expect(warning).not.toContain("cache:6380");
  });

  it("stops accepting connections once closed, and close can be called twice", async () => {
    const server = await startTestServer();
    const url = server.url;
    await server.close();
    await server.close();
    await expect(fetch(`${url}/api/health/live`)).rejects.toThrow();
  });

  it("deploys the channels saved in <data>/channels at start", async () => {
    const { createTempDir } = await import("@node-mirth/test-peers");
    await using dir = await createTempDir();
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(`${dir.path}/channels`);
    writeFileSync(
      `${dir.path}/channels/reader.json`,
      JSON.stringify({
        id: "reader",
        name: "Reader",
        source: { type: "channel", properties: {} },
        destinations: [{ id: "d1", name: "nowhere", enabled: false, connector: { type: "channel", properties: { channelId: "x" } } }],
      }),
    );
    writeFileSync(`${dir.path}/channels/broken.json`, "{ not json");
    await using server = await startTestServer({ dataDir: dir.path });
    expect(server.engine.channels()).toEqual([{ id: "reader", name: "Reader", state: "started" }]);
    expect(server.logs.some((line) => line.includes("broken.json") && line.includes("not valid JSON"))).toBe(true);
  });

  it("creates test users the auth service logs in with a fresh TOTP code each time", async () => {
    await using server = await startTestServer();
    const user = await server.createTestUser({ role: "operator" });
    expect(user.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const first = await server.auth.login({ username: user.username, password: user.password, totp: user.nextTotp() });
    const second = await server.auth.login({ username: user.username, password: user.password, totp: user.nextTotp() });
    expect(first.user.role).toBe("operator");
    expect(second.sessionId).not.toBe(first.sessionId);
    expect(server.audit.verify()).toMatchObject({ intact: true });
  });

  it("mounts the API: a test user logs in over HTTP and lists the channels with its cookie", async () => {
    await using server = await startTestServer();
    expect((await fetch(`${server.url}/api/channels`)).status).toBe(401);
    const user = await server.createTestUser({ role: "viewer" });
    const { cookie, sessionId } = await user.login();
    expect(cookie).toMatch(/^JSESSIONID=/);
    const byCookie = await fetch(`${server.url}/api/channels`, { headers: { cookie } });
    expect(byCookie.status).toBe(200);
    const byHeader = await fetch(`${server.url}/api/users/current`, { headers: { "x-session-id": sessionId } });
    expect(await byHeader.json()).toMatchObject({ username: user.username, role: "viewer" });
  });

  it("serves /metrics without a session only on the loopback metrics port", async () => {
    await using server = await startTestServer({ config: { api: { metrics_port: 0 } } });
    expect(server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const scraped = await fetch(`${server.metricsUrl!}/metrics`);
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^# (HELP|TYPE) /m);
    expect((await fetch(`${server.metricsUrl!}/api/channels`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
  });

  it("gives listener channels [inbound].bind_host as ${INBOUND_BIND_HOST}", async () => {
    const { createTempDir } = await import("@node-mirth/test-peers");
    await using dir = await createTempDir();
    const { mkdirSync, writeFileSync } = await import("node:fs");
    mkdirSync(`${dir.path}/channels`);
    writeFileSync(
      `${dir.path}/channels/in.json`,
      JSON.stringify({
        id: "in",
        name: "In",
        source: { type: "mllp", properties: { host: "${INBOUND_BIND_HOST}", port: 0 } },
        destinations: [{ id: "d1", name: "nowhere", enabled: false, connector: { type: "channel", properties: { channelId: "x" } } }],
      }),
    );
    await using server = await startTestServer({ dataDir: dir.path, config: { inbound: { bind_host: "127.0.0.2" } } });
    expect(server.engine.status("in").state).toBe("started");
    expect(server.logs.some((line) => /listening on 127\.0\.0\.2:\d+/.test(line))).toBe(true);
  });
});
