import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../__tests__/start-test-server.js";
import { ROLES, type Role } from "../../auth/auth-types.js";
import { ACCESS_RULES, type RouteKey } from "../route-table.js";
import { callApi, hl7Message, sinkChannel, writerChannel } from "./api-fixtures.js";

/*
 * The RBAC matrix: every route of ACCESS_RULES × every role, plus anonymous callers, over
 * real HTTP against a real server. Rows come from the table itself; SAMPLES says how to
 * call each route, so a route added without a sample (or a rule) fails here.
 */

interface SampleContext {
  selfUserId: number;
  /** The role's own credentials with a fresh TOTP code; wrong ones for anonymous callers. */
  credentials: () => { username: string; password: string; totp: string };
}

interface Sample {
  path: string;
  body?: unknown;
}

const CHANNEL = "rbac-writer";
const DOOMED = "rbac-doomed";

const SAMPLES: Record<RouteKey, (context: SampleContext) => Sample> = {
  "GET /api/health/live": () => ({ path: "/api/health/live" }),
  "GET /api/health": () => ({ path: "/api/health" }),
  "GET /api/openapi.json": () => ({ path: "/api/openapi.json" }),
  "GET /metrics": () => ({ path: "/metrics" }),
  "POST /api/users/_login": ({ credentials }) => ({ path: "/api/users/_login", body: credentials() }),
  "POST /api/users/_logout": () => ({ path: "/api/users/_logout" }),
  "GET /api/users/current": () => ({ path: "/api/users/current" }),
  "GET /api/users": () => ({ path: "/api/users" }),
  "POST /api/users": () => ({ path: "/api/users", body: { username: "made-by-matrix", password: "a-long-enough-password", role: "viewer" } }),
  "GET /api/users/:userId": ({ selfUserId }) => ({ path: `/api/users/${selfUserId}` }),
  // Too short: refused by the auth service after the access check, so no session changes.
  "PUT /api/users/:userId": ({ selfUserId }) => ({ path: `/api/users/${selfUserId}`, body: { password: "short" } }),
  "DELETE /api/users/:userId": ({ selfUserId }) => ({ path: `/api/users/${selfUserId}` }),
  "POST /api/users/current/_enrollMfa": () => ({ path: "/api/users/current/_enrollMfa", body: { totp: "000000" } }),
  "POST /api/users/:userId/_enrollMfa": ({ selfUserId }) => ({ path: `/api/users/${selfUserId}/_enrollMfa`, body: { totp: "000000" } }),
  "GET /api/channels": () => ({ path: "/api/channels" }),
  "GET /api/channels/statuses": () => ({ path: "/api/channels/statuses" }),
  "POST /api/channels": () => ({ path: "/api/channels", body: sinkChannel("rbac-created") }),
  "GET /api/channels/:channelId": () => ({ path: `/api/channels/${CHANNEL}` }),
  "PUT /api/channels/:channelId": () => ({ path: `/api/channels/${CHANNEL}`, body: writerChannel({ id: CHANNEL, targetChannelId: "rbac-missing" }) }),
  "DELETE /api/channels/:channelId": () => ({ path: `/api/channels/${DOOMED}` }),
  "POST /api/channels/:channelId/_deploy": () => ({ path: `/api/channels/${CHANNEL}/_deploy` }),
  "POST /api/channels/:channelId/_undeploy": () => ({ path: `/api/channels/${DOOMED}/_undeploy` }),
  "POST /api/channels/:channelId/_start": () => ({ path: `/api/channels/${CHANNEL}/_start` }),
  "POST /api/channels/:channelId/_stop": () => ({ path: `/api/channels/${CHANNEL}/_stop` }),
  "POST /api/channels/:channelId/_pause": () => ({ path: `/api/channels/${CHANNEL}/_pause` }),
  "POST /api/channels/:channelId/_resume": () => ({ path: `/api/channels/${CHANNEL}/_resume` }),
  "POST /api/channels/:channelId/_halt": () => ({ path: `/api/channels/${CHANNEL}/_halt` }),
  "GET /api/channels/:channelId/statistics": () => ({ path: `/api/channels/${CHANNEL}/statistics` }),
  "GET /api/channels/:channelId/messages": () => ({ path: `/api/channels/${CHANNEL}/messages?status=QUEUED` }),
  "POST /api/channels/:channelId/messages/_reprocess": () => ({ path: `/api/channels/${CHANNEL}/messages/_reprocess`, body: { messageIds: [999] } }),
  "POST /api/channels/:channelId/messages/_prune": () => ({ path: `/api/channels/${CHANNEL}/messages/_prune`, body: { olderThanMs: 86_400_000 } }),
  "GET /api/channels/:channelId/messages/:messageId": () => ({ path: `/api/channels/${CHANNEL}/messages/1` }),
  "DELETE /api/channels/:channelId/messages/:messageId": () => ({ path: `/api/channels/${CHANNEL}/messages/999` }),
  "GET /api/channels/:channelId/queue": () => ({ path: `/api/channels/${CHANNEL}/queue` }),
  "POST /api/channels/:channelId/queue/_retry": () => ({ path: `/api/channels/${CHANNEL}/queue/_retry`, body: { entries: [{ messageId: 999, destinationId: "to-target" }] } }),
  "GET /api/server/info": () => ({ path: "/api/server/info" }),
  "GET /api/server/status": () => ({ path: "/api/server/status" }),
  "GET /api/events": () => ({ path: "/api/events?limit=5" }),
  "GET /api/events/_verify": () => ({ path: "/api/events/_verify" }),
};

const ROUTE_KEYS = Object.keys(ACCESS_RULES) as RouteKey[];
// Logging out ends the session the rest of the matrix uses: last.
const ORDERED_KEYS = [...ROUTE_KEYS.filter((key) => key !== "POST /api/users/_logout"), "POST /api/users/_logout" as const];

function methodOf(key: RouteKey): string {
  return key.slice(0, key.indexOf(" "));
}

describe("RBAC matrix (every route × every role, real HTTP)", () => {
  let server: TestServer;
  const sessions = new Map<Role, { sessionId: string; userId: number; credentials: SampleContext["credentials"] }>();
  const answers = new Map<string, { status: number; code?: string }>();

  beforeAll(async () => {
    server = await startTestServer();
    for (const role of ROLES) {
      const user = await server.createTestUser({ role });
      const { sessionId } = await user.login();
      const current = await callApi(server.url, { method: "GET", path: "/api/users/current", sessionId });
      const credentials = () => ({ username: user.username, password: user.password, totp: user.nextTotp() });
      sessions.set(role, { sessionId, userId: (current.body as { id: number }).id, credentials });
    }
    const admin = sessions.get("admin")!.sessionId;
    for (const channel of [writerChannel({ id: CHANNEL, targetChannelId: "rbac-missing" }), sinkChannel(DOOMED)]) {
      expect((await callApi(server.url, { method: "POST", path: "/api/channels", sessionId: admin, body: channel })).status).toBe(201);
      expect((await callApi(server.url, { method: "POST", path: `/api/channels/${channel.id}/_deploy`, sessionId: admin })).status).toBe(200);
    }
    await server.engine.dispatch(CHANNEL, { content: hl7Message({ controlId: "RBAC1", patientId: "P-RBAC" }) });

    // Route-major, so a destructive call by one role does not hide another role's decision.
    for (const key of ORDERED_KEYS) {
      for (const role of [...ROLES, "anonymous" as const]) {
        const session = role === "anonymous" ? undefined : sessions.get(role)!;
        // A login carrying a session ends that session (rotation): public routes go without one.
        const sessionId = ACCESS_RULES[key].roles === "public" ? undefined : session?.sessionId;
        const sample = SAMPLES[key]({
          selfUserId: session?.userId ?? 1,
          credentials: session?.credentials ?? (() => ({ username: "nobody", password: "not-the-password", totp: "123456" })),
        });
        const answer = await callApi(server.url, {
          method: methodOf(key),
          path: sample.path,
          ...(sessionId === undefined ? {} : { sessionId }),
          ...(sample.body === undefined ? {} : { body: sample.body }),
        });
        const code = (answer.body as { code?: string } | undefined)?.code;
        answers.set(`${key} as ${role}`, { status: answer.status, ...(code === undefined ? {} : { code }) });
      }
    }
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it("has a sample for every route of the table and no sample for a route that is gone", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...ROUTE_KEYS].sort());
  });

  for (const key of ROUTE_KEYS) {
    const rule = ACCESS_RULES[key];
    for (const role of ROLES) {
      const allowed = rule.roles === "public" || (rule.roles as readonly string[]).includes(role);
      it(`${key} as ${role}: ${allowed ? "allowed" : "403"}`, () => {
        const answer = answers.get(`${key} as ${role}`)!;
        if (allowed) {
          expect(answer.code).not.toBe("ERR_API_FORBIDDEN");
          expect(answer.code).not.toBe("ERR_AUTH_REQUIRED");
          expect([401, 403]).not.toContain(answer.status);
        } else {
          expect(answer).toEqual({ status: 403, code: "ERR_API_FORBIDDEN" });
        }
      });
    }
    it(`${key} anonymous: ${rule.roles === "public" ? "answered" : "401"}`, () => {
      const answer = answers.get(`${key} as anonymous`)!;
      if (key === "POST /api/users/_login") expect(answer).toEqual({ status: 401, code: "ERR_AUTH_INVALID_CREDENTIALS" });
      else if (rule.roles === "public") expect(answer.status).toBe(200);
      else expect(answer).toEqual({ status: 401, code: "ERR_AUTH_REQUIRED" });
    });
  }

  it("never lets a viewer reach message content, queues or the audit log", () => {
    const sensitive = ROUTE_KEYS.filter((key) => /\/messages|\/queue|\/events|\/api\/users$/.test(key));
    expect(sensitive.length).toBeGreaterThanOrEqual(10);
    for (const key of sensitive) expect(answers.get(`${key} as viewer`)).toEqual({ status: 403, code: "ERR_API_FORBIDDEN" });
  });

  it("lets only an admin manage users and read the audit log", () => {
    for (const key of ["GET /api/users", "POST /api/users", "DELETE /api/users/:userId", "GET /api/events", "GET /api/events/_verify"] as const) {
      expect(ACCESS_RULES[key].roles).toEqual(["admin"]);
      expect(answers.get(`${key} as admin`)?.status).toBeLessThan(500);
    }
  });

  it("answers allowed calls with their real result, not just 'not forbidden'", () => {
    expect(answers.get("GET /api/channels/:channelId/messages as operator")?.status).toBe(200);
    expect(answers.get("GET /api/channels/:channelId/statistics as viewer")?.status).toBe(200);
    expect(answers.get("GET /metrics as viewer")?.status).toBe(200);
    expect(answers.get("GET /api/events as admin")?.status).toBe(200);
    expect(answers.get("POST /api/channels as admin")?.status).toBe(201);
    expect(answers.get("POST /api/channels as developer")).toEqual({ status: 409, code: "ERR_API_CHANNEL_EXISTS" });
    expect(answers.get("DELETE /api/channels/:channelId as admin")?.status).toBe(204);
    expect(answers.get("GET /api/users/:userId as viewer")?.status).toBe(200);
    expect(answers.get("POST /api/users/_logout as viewer")?.status).toBe(204);
    expect(answers.get("POST /api/users/_login as operator")?.status).toBe(200);
  });
});
