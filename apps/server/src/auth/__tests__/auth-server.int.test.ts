import { describe, expect, it } from "vitest";
import { startTestServer, type TestServer, type TestUser } from "../../__tests__/start-test-server.js";

/** Auth through the real server (S-BOOT's startTestServer with S-API's routes and error statuses). */

async function login(server: TestServer, body: Record<string, unknown>) {
  const res = await fetch(`${server.url}/api/users/_login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { res, body: (await res.json()) as { code?: string; sessionId?: string } };
}

const credentials = (user: TestUser) => ({ username: user.username, password: user.password, totp: user.nextTotp() });

describe("auth on the running server", () => {
  it.each([
    { env: {}, secure: false },
    { env: { TLS_ENABLED: "true" }, secure: true },
    { env: { NODE_ENV: "production" }, secure: true },
  ])("JSESSIONID is HttpOnly, SameSite=Strict, Secure=$secure with $env", async ({ env, secure }) => {
    await using server = await startTestServer({ env });
    const user = await server.createTestUser({ role: "viewer" });
    const { res, body } = await login(server, credentials(user));
    expect(res.status).toBe(200);
    const cookie = res.headers.getSetCookie().find((value) => value.startsWith("JSESSIONID="))!;
    expect(cookie).toContain(`JSESSIONID=${body.sessionId}`);
    expect(cookie).toContain("; HttpOnly; SameSite=Strict");
    expect(cookie.endsWith("; Secure")).toBe(secure);
  });

  it("locks an account after repeated failures (429) and audits each attempt", async () => {
    await using server = await startTestServer({ config: { auth: { lockout_threshold: 3 } } });
    const user = await server.createTestUser({ role: "operator" });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect((await login(server, { username: user.username, password: "wrong password here" })).res.status).toBe(401);
    }
    const locked = await login(server, credentials(user));
    expect([locked.res.status, locked.body.code]).toEqual([429, "ERR_AUTH_LOCKED_OUT"]);
    const attempts = server.audit.list({ limit: 50 }).filter((entry) => entry.action === "auth.login");
    expect(attempts).toHaveLength(4);
    expect(attempts.every((entry) => entry.outcome === "failure" && entry.actor === user.username)).toBe(true);
  });

  it("ends a session after the idle timeout on the server's clock", async () => {
    let now = Date.now();
    await using server = await startTestServer({ clock: () => now, config: { auth: { session_idle_timeout_seconds: 60 } } });
    const user = await server.createTestUser({ role: "viewer" });
    const { sessionId } = await user.login();
    const current = () => fetch(`${server.url}/api/users/current`, { headers: { "x-session-id": sessionId } });
    expect((await current()).status).toBe(200);
    now += 61_000;
    const expired = await current();
    expect([expired.status, ((await expired.json()) as { code: string }).code]).toEqual([401, "ERR_AUTH_SESSION_EXPIRED"]);
  });
});
