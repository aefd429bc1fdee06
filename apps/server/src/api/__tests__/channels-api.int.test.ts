import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../__tests__/start-test-server.js";
import { callApi, sinkChannel } from "./api-fixtures.js";

describe("channels API (real server, real engine)", () => {
  let server: TestServer;
  let developer: string;
  let operator: string;
  const call = (request: Parameters<typeof callApi>[1]) => callApi(server.url, request);

  beforeAll(async () => {
    server = await startTestServer();
    developer = (await (await server.createTestUser({ role: "developer" })).login()).sessionId;
    operator = (await (await server.createTestUser({ role: "operator" })).login()).sessionId;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("saves, deploys, drives and deletes a channel through its whole lifecycle", async () => {
    const channel = sinkChannel("life");
    expect(await call({ method: "POST", path: "/api/channels", sessionId: developer, body: channel })).toMatchObject({
      status: 201,
      body: { id: "life", name: "Sink life", enabled: true, state: "undeployed" },
    });
    expect(existsSync(join(server.dataDir, "channels", "life.json"))).toBe(true);
    expect((await call({ method: "GET", path: "/api/channels/life", sessionId: operator })).body).toEqual(channel);

    const states: string[] = [];
    for (const [action, session] of [
      ["_deploy", developer],
      ["_pause", operator],
      ["_resume", operator],
      ["_stop", operator],
      ["_start", operator],
      ["_halt", operator],
    ] as const) {
      const answer = await call({ method: "POST", path: `/api/channels/life/${action}`, sessionId: session });
      expect(answer.status, action).toBe(200);
      states.push((answer.body as { state: string }).state);
    }
    expect(states).toEqual(["started", "paused", "started", "stopped", "started", "stopped"]);

    const statuses = await call({ method: "GET", path: "/api/channels/statuses", sessionId: operator });
    expect(statuses.body).toContainEqual({ id: "life", name: "Sink life", state: "stopped" });
    expect((await call({ method: "GET", path: "/api/channels/life/statistics", sessionId: operator })).status).toBe(200);

    expect((await call({ method: "POST", path: "/api/channels/life/_undeploy", sessionId: developer })).body).toEqual({ id: "life", state: "undeployed" });
    expect(await call({ method: "POST", path: "/api/channels/life/_start", sessionId: operator })).toMatchObject({
      status: 409,
      body: { code: "ERR_CHANNEL_NOT_DEPLOYED" },
    });
    expect((await call({ method: "DELETE", path: "/api/channels/life", sessionId: developer })).status).toBe(204);
    expect(existsSync(join(server.dataDir, "channels", "life.json"))).toBe(false);
    expect(await call({ method: "GET", path: "/api/channels/life", sessionId: operator })).toMatchObject({
      status: 404,
      body: { code: "ERR_API_CHANNEL_NOT_FOUND" },
    });
  });

  it("undeploys a running channel it deletes", async () => {
    await call({ method: "POST", path: "/api/channels", sessionId: developer, body: sinkChannel("running-delete") });
    await call({ method: "POST", path: "/api/channels/running-delete/_deploy", sessionId: developer });
    expect(server.engine.channels().map((status) => status.id)).toContain("running-delete");
    expect((await call({ method: "DELETE", path: "/api/channels/running-delete", sessionId: developer })).status).toBe(204);
    expect(server.engine.channels().map((status) => status.id)).not.toContain("running-delete");
  });

  it("rejects unknown fields at the top and deep inside a channel, naming each", async () => {
    const channel = sinkChannel("strict");
    const answer = await call({
      method: "POST",
      path: "/api/channels",
      sessionId: developer,
      body: { ...channel, colour: "red", destinations: [{ ...channel.destinations[0], retries: 3 }] },
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: "ERR_API_INVALID_REQUEST" });
    expect((answer.body as { details: { issues: { path: string }[] } }).details.issues.map((issue) => issue.path).sort()).toEqual([
      "body.colour",
      "body.destinations.0.retries",
    ]);
    expect(existsSync(join(server.dataDir, "channels", "strict.json"))).toBe(false);
  });

  it("reports every schema problem of a channel at once", async () => {
    const answer = await call({ method: "POST", path: "/api/channels", sessionId: developer, body: { id: "bad id!", destinations: [] } });
    expect(answer.status).toBe(400);
    const paths = (answer.body as { details: { issues: { path: string }[] } }).details.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["body.id", "body.name", "body.source", "body.destinations"]));
  });

  it("refuses a PUT whose document names another channel, and a duplicate POST", async () => {
    await call({ method: "POST", path: "/api/channels", sessionId: developer, body: sinkChannel("one") });
    expect(await call({ method: "PUT", path: "/api/channels/one", sessionId: developer, body: sinkChannel("two") })).toMatchObject({
      status: 400,
      body: { code: "ERR_API_CHANNEL_ID_MISMATCH" },
    });
    expect(await call({ method: "POST", path: "/api/channels", sessionId: developer, body: sinkChannel("one") })).toMatchObject({
      status: 409,
      body: { code: "ERR_API_CHANNEL_EXISTS" },
    });
    const renamed = { ...sinkChannel("one"), name: "Renamed" };
    expect(await call({ method: "PUT", path: "/api/channels/one", sessionId: developer, body: renamed })).toMatchObject({ status: 200, body: { name: "Renamed" } });
  });

  it("answers the engine's deploy validation as 422 with its issues", async () => {
    const channel = { ...sinkChannel("no-plugin"), source: { type: "carrier-pigeon", properties: {} } };
    await call({ method: "POST", path: "/api/channels", sessionId: developer, body: channel });
    const answer = await call({ method: "POST", path: "/api/channels/no-plugin/_deploy", sessionId: developer });
    expect(answer).toMatchObject({ status: 422, body: { code: "ERR_CHANNEL_INVALID" } });
  });

  it("reports readiness: 503 while a saved channel is not deployed, 200 once it is", async () => {
    await call({ method: "POST", path: "/api/channels", sessionId: developer, body: sinkChannel("ready") });
    const down = await call({ method: "GET", path: "/api/health" });
    expect(down).toMatchObject({ status: 503, body: { status: "unavailable", code: "ERR_API_NOT_READY", checks: { store: true, channels: false } } });
    expect((await call({ method: "GET", path: "/api/health/live" })).status).toBe(200);
    for (const id of ["ready", "one", "no-plugin"]) await call({ method: "DELETE", path: `/api/channels/${id}`, sessionId: developer });
    expect(await call({ method: "GET", path: "/api/health" })).toMatchObject({ status: 200, body: { status: "ok", checks: { store: true, channels: true } } });
  });

  it("tells the server's version, uptime and channel counts", async () => {
    const info = await call({ method: "GET", path: "/api/server/info", sessionId: operator });
    expect(info.body).toMatchObject({ name: "node-mirth", nodeVersion: process.versions.node });
    expect((info.body as { version: string }).version).toMatch(/^\d+\.\d+\.\d+/);
    const status = await call({ method: "GET", path: "/api/server/status", sessionId: operator });
    expect(status.body).toMatchObject({ store: { commits: expect.any(Number) as number } });
    expect((status.body as { uptimeMs: number }).uptimeMs).toBeGreaterThanOrEqual(0);
  });
});
