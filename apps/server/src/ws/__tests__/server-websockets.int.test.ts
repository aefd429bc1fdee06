import type { ChannelInput } from "@node-mirth/core";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startTestServer } from "../../__tests__/start-test-server.js";
import { DASHBOARD_STATUS_PATH, SERVER_LOG_PATH, WS_CLOSE_SESSION_ENDED } from "../attach-websockets.js";

/** End to end through the real server (S-BOOT's startTestServer, S-API's routes): auth, WebSockets, audit. */

const MRN = "MRN-PRIVATE-90210";
const HL7 = `MSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101080000||ADT^A01|MSG0001|P|2.5\rPID|1||${MRN}||DOE^JANE\r`;

const channels: ChannelInput[] = [
  {
    id: "sink",
    name: "Sink",
    source: { type: "channel", properties: {} },
    destinations: [{ id: "keep", name: "Keep", enabled: false, connector: { type: "channel", properties: { channelId: "sink" } } }],
  },
  {
    id: "feeder",
    name: "Feeder",
    source: { type: "channel", properties: {} },
    destinations: [{ id: "to-sink", name: "To Sink", connector: { type: "channel", properties: { channelId: "sink" } } }],
  },
];

async function open(url: string, headers: Record<string, string>) {
  const ws = new WebSocket(url, { headers, handshakeTimeout: 5_000 });
  const frames: string[] = [];
  ws.on("message", (data: Buffer) => frames.push(data.toString("utf8")));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  const status = await new Promise<number>((resolve, reject) => {
    ws.once("open", () => resolve(101));
    ws.once("unexpected-response", (_req, res) => {
      ws.terminate();
      resolve(res.statusCode ?? 0);
    });
    ws.once("error", reject);
  });
  const waitFor = async (predicate: (frame: string) => boolean) => {
    await expect.poll(() => frames.some(predicate), { timeout: 5_000 }).toBe(true);
    return frames.find(predicate)!;
  };
  return { ws, status, frames, closed, waitFor };
}

describe("WebSockets on the running server", () => {
  it("pushes channel state changes made through the API to a viewer's dashboard, and closes it on logout", async () => {
    await using server = await startTestServer();
    await server.engine.deployAll(channels);
    const viewer = await (await server.createTestUser({ role: "viewer" })).login();
    const operator = await (await server.createTestUser({ role: "operator" })).login();
    const wsUrl = server.url.replace("http:", "ws:");

    expect((await open(`${wsUrl}${DASHBOARD_STATUS_PATH}`, {})).status).toBe(401);
    const dashboard = await open(`${wsUrl}${DASHBOARD_STATUS_PATH}`, { cookie: viewer.cookie });
    expect(dashboard.status).toBe(101);
    await dashboard.waitFor((frame) => frame.includes('"snapshot"') && frame.includes('"feeder"'));

    const stop = await fetch(`${server.url}/api/channels/feeder/_stop`, { method: "POST", headers: { "x-session-id": operator.sessionId } });
    expect(stop.status).toBeLessThan(300);
    await dashboard.waitFor((frame) => frame.includes('"channelState"') && frame.includes('"feeder"') && frame.includes('"stopped"'));
    await fetch(`${server.url}/api/channels/feeder/_start`, { method: "POST", headers: { "x-session-id": operator.sessionId } });
    await dashboard.waitFor((frame) => frame.includes('"channelState"') && frame.includes('"feeder"') && frame.includes('"started"'));

    const logout = await fetch(`${server.url}/api/users/_logout`, { method: "POST", headers: { cookie: viewer.cookie } });
    expect(logout.status).toBe(204);
    expect(await dashboard.closed).toBe(WS_CLOSE_SESSION_ENDED);
    expect((await open(`${wsUrl}${DASHBOARD_STATUS_PATH}`, { cookie: viewer.cookie })).status).toBe(401);
  });

  it("streams server log lines, none carrying message content", async () => {
    await using server = await startTestServer();
    await server.engine.deployAll(channels);
    const admin = await (await server.createTestUser({ role: "admin" })).login();
    const log = await open(`${server.url.replace("http:", "ws:")}${SERVER_LOG_PATH}`, { "x-session-id": admin.sessionId });
    expect(log.status).toBe(101);

    await server.engine.dispatch("feeder", { content: HL7 });
    await server.engine.idle("feeder");
    await server.engine.idle("sink");
    await fetch(`${server.url}/api/channels/feeder/_stop`, { method: "POST", headers: { "x-session-id": admin.sessionId } });
    await log.waitFor((frame) => frame.includes("feeder"));
    expect(log.frames.join("\n")).not.toContain(MRN);
    expect(server.logs.join("\n")).not.toContain(MRN);
    log.ws.close();
    await log.closed;
  });
});

describe("audit on the running server", () => {
  it("records every login attempt and GET /api/events/_verify names an entry edited in server.db", async () => {
    await using server = await startTestServer();
    const admin = await server.createTestUser({ role: "admin" });
    const wrong = await fetch(`${server.url}/api/users/_login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: admin.username, password: "not the right password" }),
    });
    expect(wrong.status).toBe(401);
    const { sessionId } = await admin.login();
    const verify = async () =>
      (await (await fetch(`${server.url}/api/events/_verify`, { headers: { "x-session-id": sessionId } })).json()) as {
        intact: boolean;
        firstBrokenId?: number;
      };
    expect(await verify()).toMatchObject({ intact: true });

    const logins = server.audit.list({ limit: 100 }).filter((entry) => entry.action === "auth.login");
    expect(logins.map((entry) => entry.outcome)).toEqual(["success", "failure"]);
    const failure = logins[1]!;
    server.serverDb.prepare("UPDATE audit_log SET outcome = 'success' WHERE id = ?").run(failure.id);
    expect(await verify()).toEqual(expect.objectContaining({ intact: false, firstBrokenId: failure.id }));
  });
});
