import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../__tests__/start-test-server.js";
import { callApi, sinkChannel } from "./api-fixtures.js";

interface AuditEntry {
  id: number;
  actor: string;
  action: string;
  target?: string;
  outcome: string;
  details?: Record<string, unknown>;
}

describe("audit of state-changing calls, /api/events and _verify (real server)", () => {
  let server: TestServer;
  let admin: string;
  let developer: string;
  let viewer: string;
  let developerName: string;
  let viewerName: string;
  const call = (request: Parameters<typeof callApi>[1]) => callApi(server.url, request);
  const events = async (query = "") => {
    const answer = await call({ method: "GET", path: `/api/events${query}`, sessionId: admin });
    expect(answer.status).toBe(200);
    return answer.body as { events: AuditEntry[]; nextCursor?: number };
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = (await (await server.createTestUser({ role: "admin" })).login()).sessionId;
    const dev = await server.createTestUser({ role: "developer" });
    developerName = dev.username;
    developer = (await dev.login()).sessionId;
    const view = await server.createTestUser({ role: "viewer" });
    viewerName = view.username;
    viewer = (await view.login()).sessionId;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it("records who changed what, refused attempts included, and no reads", async () => {
    await call({ method: "POST", path: "/api/channels", sessionId: developer, body: sinkChannel("audited") });
    await call({ method: "POST", path: "/api/channels/audited/_deploy", sessionId: developer });
    await call({ method: "POST", path: "/api/channels/audited/_stop", sessionId: viewer });
    await call({ method: "GET", path: "/api/channels/audited", sessionId: developer });
    const { events: newest } = await events("?limit=3");
    expect(newest.map(({ actor, action, target, outcome }) => ({ actor, action, target, outcome }))).toEqual([
      { actor: viewerName, action: "channel.stop", target: "audited", outcome: "failure" },
      { actor: developerName, action: "channel.deploy", target: "audited", outcome: "success" },
      { actor: developerName, action: "channel.create", target: undefined, outcome: "success" },
    ]);
    expect(newest[0]!.details).toMatchObject({ method: "POST", route: "/api/channels/:channelId/_stop", status: 403, role: "viewer" });
  });

  it("never writes a body into the audit log", async () => {
    await call({ method: "POST", path: "/api/users", sessionId: admin, body: { username: "audit-secret", password: "correct horse battery staple", role: "viewer" } });
    const [entry] = (await events("?limit=1")).events;
    expect(entry).toMatchObject({ action: "user.create", outcome: "success" });
    expect(JSON.stringify(entry)).not.toContain("correct horse");
  });

  it("pages the log newest first with a cursor", async () => {
    const first = await events("?limit=2");
    expect(first.events).toHaveLength(2);
    expect(first.nextCursor).toBe(first.events[1]!.id);
    const second = await events(`?limit=2&before=${first.nextCursor}`);
    expect(second.events[0]!.id).toBeLessThan(first.events[1]!.id);
  });

  it("verifies the chain, and finds the entry edited behind its back", async () => {
    const intact = await call({ method: "GET", path: "/api/events/_verify", sessionId: admin });
    expect(intact.body).toMatchObject({ intact: true });
    expect((intact.body as { checked: number }).checked).toBeGreaterThan(3);
    const victim = (await events()).events.find((entry) => entry.action === "channel.stop")!;
    server.serverDb.prepare("UPDATE audit_log SET outcome = 'success' WHERE id = ?").run(victim.id);
    const broken = await call({ method: "GET", path: "/api/events/_verify", sessionId: admin });
    expect(broken.body).toMatchObject({ intact: false, firstBrokenId: victim.id });
  });
});
