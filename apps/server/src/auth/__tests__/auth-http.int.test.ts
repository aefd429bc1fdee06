import { describe, expect, it } from "vitest";
import { totpCode } from "../totp.js";
import { secretOf, startAuthTestApp, type AuthTestApp } from "./auth-test-app.js";

const PASSWORD = "a long enough passphrase";

async function login(app: AuthTestApp, body: Record<string, unknown>, cookie?: string) {
  const res = await app.call("/api/users/_login", { body, ...(cookie === undefined ? {} : { cookie }) });
  return { res, body: (await res.json()) as Record<string, unknown> & { code?: string; sessionId?: string } };
}

async function loginOk(app: AuthTestApp, username: string, secret: Buffer): Promise<string> {
  const { res, body } = await login(app, { username, password: PASSWORD, totp: app.freshCode(secret) });
  expect(res.status, JSON.stringify(body)).toBe(200);
  return body.sessionId!;
}

function loginEntries(app: AuthTestApp) {
  return app.audit.list({ limit: 1000 }).filter((entry) => entry.action === "auth.login");
}

describe("login with TOTP MFA over HTTP", () => {
  it("enrolls at creation, refuses a login without a code, and the first login with a code confirms it", async () => {
    await using app = await startAuthTestApp();
    const created = await app.auth.createUser({ username: "alice", password: PASSWORD, role: "admin" });
    expect(created.user).toMatchObject({ username: "alice", role: "admin", mfaEnrolled: false, mfaPending: true });
    expect(created.otpauthUri).toMatch(/^otpauth:\/\/totp\/node-mirth:alice\?secret=[A-Z2-7]{32}&issuer=node-mirth&algorithm=SHA1&digits=6&period=30$/);
    const secret = secretOf(created.otpauthUri!);

    const withoutCode = await login(app, { username: "alice", password: PASSWORD });
    expect(withoutCode.res.status).toBe(401);
    expect(withoutCode.body.code).toBe("ERR_AUTH_MFA_REQUIRED");

    const wrongCode = await login(app, { username: "alice", password: PASSWORD, totp: totpCode(secret, app.now() + 10 * 60_000) });
    expect(wrongCode.body.code).toBe("ERR_AUTH_INVALID_CREDENTIALS");
    expect(app.auth.getUser(created.user.id).mfaPending).toBe(true);

    const ok = await login(app, { username: "alice", password: PASSWORD, totp: app.freshCode(secret) });
    expect(ok.res.status).toBe(200);
    expect(ok.body.user).toMatchObject({ username: "alice", mfaEnrolled: true, mfaPending: false });
    expect(ok.res.headers.get("cache-control")).toBe("no-store");

    const attempts = loginEntries(app).reverse();
    expect(attempts.map((entry) => [entry.outcome, entry.details?.reason])).toEqual([
      ["failure", "mfa-code-missing"],
      ["failure", "bad-totp"],
      ["success", undefined],
    ]);
    expect(attempts[2]!.details).toMatchObject({ mfaEnrollmentConfirmed: true, remoteAddress: "127.0.0.1" });
  });

  it("refuses a code already used (replay), and accepts the next step's code", async () => {
    await using app = await startAuthTestApp();
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    const code = app.freshCode(alice.secret!);
    expect((await login(app, { username: "alice", password: PASSWORD, totp: code })).res.status).toBe(200);
    const replay = await login(app, { username: "alice", password: PASSWORD, totp: code });
    expect(replay.body.code).toBe("ERR_AUTH_INVALID_CREDENTIALS");
    expect(loginEntries(app)[0]!.details?.reason).toBe("replayed-totp");
    expect((await login(app, { username: "alice", password: PASSWORD, totp: app.freshCode(alice.secret!) })).res.status).toBe(200);
  });

  it("lets only one of two concurrent logins spend the same TOTP code", async () => {
    await using app = await startAuthTestApp();
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    const code = app.freshCode(alice.secret!);
    const both = await Promise.all([0, 1].map(() => login(app, { username: "alice", password: PASSWORD, totp: code })));
    expect(both.map(({ res }) => res.status).sort()).toEqual([200, 401]);
  });

  it("answers an unknown user exactly like a wrong password, and audits both", async () => {
    await using app = await startAuthTestApp();
    await app.addUser({ username: "alice", role: "viewer" });
    const unknown = await login(app, { username: "mallory", password: PASSWORD, totp: "123456" });
    const wrong = await login(app, { username: "alice", password: "not the passphrase", totp: "123456" });
    expect([unknown.res.status, unknown.body]).toEqual([wrong.res.status, wrong.body]);
    expect(loginEntries(app).map((entry) => [entry.actor, entry.details?.reason])).toEqual([
      ["alice", "bad-password"],
      ["mallory", "unknown-user"],
    ]);
  });

  it("refuses malformed and oversized login bodies, and audits nothing secret", async () => {
    await using app = await startAuthTestApp();
    await app.addUser({ username: "alice", role: "viewer" });
    const extra = await login(app, { username: "alice", password: PASSWORD, admin: true });
    expect([extra.res.status, extra.body.code]).toEqual([400, "ERR_AUTH_INVALID_INPUT"]);
    const big = await app.call("/api/users/_login", { body: { username: "alice", password: "x".repeat(10_000) } });
    expect(big.status).toBe(413);
    await login(app, { username: "alice", password: "wrong passphrase here", totp: "918273" });
    await login(app, { username: "alice", password: PASSWORD, totp: "918273" });
    const stored = JSON.stringify(app.db.prepare("SELECT actor, action, target, details FROM audit_log").all());
    expect(stored).toContain("bad-totp");
    expect(stored).not.toContain("wrong passphrase here");
    expect(stored).not.toContain(PASSWORD);
    expect(stored).not.toContain("918273");
  });
});

describe("cookie and session", () => {
  it("sets JSESSIONID HttpOnly SameSite=Strict without Secure on plain HTTP by default", async () => {
    await using app = await startAuthTestApp();
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    const { res, body } = await login(app, { username: "alice", password: PASSWORD, totp: app.freshCode(alice.secret!) });
    const cookie = res.headers.getSetCookie()[0]!;
    expect(cookie).toBe(`JSESSIONID=${body.sessionId}; Path=/; Max-Age=28800; HttpOnly; SameSite=Strict`);
    expect(body.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([{ TLS_ENABLED: "true" }, { TLS_ENABLED: "TRUE" }, { NODE_ENV: "production" }])("adds Secure with %o", async (env) => {
    await using app = await startAuthTestApp({ env });
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    const { res } = await login(app, { username: "alice", password: PASSWORD, totp: app.freshCode(alice.secret!) });
    expect(res.headers.getSetCookie()[0]).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
  });

  it("accepts the session by cookie or X-Session-ID and refuses none, bogus or garbage ids", async () => {
    await using app = await startAuthTestApp();
    const alice = await app.addUser({ username: "alice", role: "operator" });
    const sessionId = await loginOk(app, "alice", alice.secret!);
    for (const init of [{ sessionId }, { cookie: `theme=dark; JSESSIONID=${sessionId}` }]) {
      const res = await app.call("/api/users/current", init);
      expect(await res.json()).toMatchObject({ id: alice.id, username: "alice", role: "operator" });
    }
    const none = await app.call("/api/users/current");
    expect([none.status, ((await none.json()) as { code: string }).code]).toEqual([401, "ERR_AUTH_REQUIRED"]);
    const bogus = await app.call("/api/users/current", { sessionId: "A".repeat(43) });
    expect([bogus.status, ((await bogus.json()) as { code: string }).code]).toEqual([401, "ERR_AUTH_SESSION_EXPIRED"]);
    const garbage = await app.call("/api/users/current", { cookie: "JSESSIONID=../../etc" });
    expect(garbage.status).toBe(401);
  });

  it("rotates the session id at login: the id held before is dead afterwards, and a failed login leaves it alone", async () => {
    await using app = await startAuthTestApp();
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    const first = await loginOk(app, "alice", alice.secret!);
    const { body } = await login(
      app,
      { username: "alice", password: PASSWORD, totp: app.freshCode(alice.secret!) },
      `JSESSIONID=${first}`,
    );
    expect(body.sessionId).not.toBe(first);
    expect((await app.call("/api/users/current", { sessionId: first })).status).toBe(401);
    const failed = await login(app, { username: "alice", password: "not the passphrase" }, `JSESSIONID=${body.sessionId}`);
    expect(failed.res.status).toBe(401);
    expect((await app.call("/api/users/current", { sessionId: body.sessionId! })).status).toBe(200);
  });

  it("ends a session after the idle timeout, and one kept busy after the absolute timeout", async () => {
    await using app = await startAuthTestApp({ config: { session_idle_timeout_seconds: 600, session_absolute_timeout_seconds: 3600 } });
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    const ended: string[] = [];
    app.auth.onSessionEnd((id) => ended.push(id));

    const idle = await loginOk(app, "alice", alice.secret!);
    app.advance(599_000);
    expect((await app.call("/api/users/current", { sessionId: idle })).status).toBe(200);
    app.advance(599_000);
    expect((await app.call("/api/users/current", { sessionId: idle })).status).toBe(200);
    app.advance(600_000);
    const expired = await app.call("/api/users/current", { sessionId: idle });
    expect([expired.status, ((await expired.json()) as { code: string }).code]).toEqual([401, "ERR_AUTH_SESSION_EXPIRED"]);
    expect(ended).toEqual([idle]);

    const busy = await loginOk(app, "alice", alice.secret!);
    for (let minute = 5; minute < 60; minute += 5) {
      app.advance(300_000);
      expect((await app.call("/api/users/current", { sessionId: busy })).status).toBe(200);
    }
    app.advance(300_000);
    expect((await app.call("/api/users/current", { sessionId: busy })).status).toBe(401);
    expect(ended).toEqual([idle, busy]);
    expect(app.audit.list({ limit: 100 }).filter((entry) => entry.action === "auth.session_expired").map((entry) => entry.details?.reason)).toEqual([
      "absolute",
      "idle",
    ]);
  });

  it("logs out: 204, cookie cleared, session dead, listeners told, audited", async () => {
    await using app = await startAuthTestApp();
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    const sessionId = await loginOk(app, "alice", alice.secret!);
    const ended: string[] = [];
    app.auth.onSessionEnd((id) => ended.push(id));
    const res = await app.call("/api/users/_logout", { method: "POST", sessionId });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie()[0]).toBe("JSESSIONID=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
    expect(ended).toEqual([sessionId]);
    expect((await app.call("/api/users/current", { sessionId })).status).toBe(401);
    expect(app.audit.list({ limit: 1 })[0]).toMatchObject({ actor: "alice", action: "auth.logout", outcome: "success" });
  });
});

describe("lockout", () => {
  it("locks after the threshold of failures (password or TOTP), refuses even the right credentials, then unlocks", async () => {
    await using app = await startAuthTestApp({ config: { lockout_threshold: 3, lockout_duration_seconds: 600 } });
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    await login(app, { username: "alice", password: "wrong passphrase 1" });
    await login(app, { username: "alice", password: PASSWORD, totp: totpCode(alice.secret!, app.now() + 3_600_000) });
    const third = await login(app, { username: "alice", password: "wrong passphrase 3" });
    expect(third.body.code).toBe("ERR_AUTH_INVALID_CREDENTIALS");

    const locked = await login(app, { username: "alice", password: PASSWORD, totp: app.freshCode(alice.secret!) });
    expect([locked.res.status, locked.body.code]).toEqual([429, "ERR_AUTH_LOCKED_OUT"]);
    expect(app.auth.getUser(alice.id).lockedUntil).toBeGreaterThan(app.now());
    expect(app.audit.list({ limit: 100 }).some((entry) => entry.action === "auth.lockout" && entry.target === "alice")).toBe(true);

    app.advance(600_000);
    expect((await login(app, { username: "alice", password: PASSWORD, totp: app.freshCode(alice.secret!) })).res.status).toBe(200);
    expect(app.auth.getUser(alice.id).lockedUntil).toBeUndefined();
    expect(loginEntries(app).map((entry) => entry.details?.reason ?? entry.outcome).reverse()).toEqual([
      "bad-password",
      "bad-totp",
      "bad-password-locked",
      "locked",
      "success",
    ]);
  });

  it("a success resets the failure count", async () => {
    await using app = await startAuthTestApp({ config: { lockout_threshold: 2 } });
    const alice = await app.addUser({ username: "alice", role: "viewer" });
    await login(app, { username: "alice", password: "wrong passphrase 1" });
    await loginOk(app, "alice", alice.secret!);
    await login(app, { username: "alice", password: "wrong passphrase 2" });
    await loginOk(app, "alice", alice.secret!);
  });
});

describe("users CRUD and enrollment over HTTP", () => {
  async function adminApp(config = {}) {
    const app = await startAuthTestApp({ config });
    const admin = await app.addUser({ username: "root", role: "admin" });
    return { app, admin, session: await loginOk(app, "root", admin.secret!) };
  }

  it("creates (201 with the enrollment URI), lists, gets, changes role and deletes", async () => {
    const { app, session } = await adminApp();
    await using _ = app;
    const created = await app.call("/api/users", { sessionId: session, body: { username: "bob", password: PASSWORD, role: "developer" } });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { user: { id: number }; otpauthUri: string };
    expect(body.otpauthUri).toMatch(/^otpauth:\/\/totp\/node-mirth:bob\?/);
    const list = (await (await app.call("/api/users", { sessionId: session })).json()) as { username: string }[];
    expect(list.map((user) => user.username)).toEqual(["root", "bob"]);
    expect(JSON.stringify(list)).not.toMatch(/argon2|secret|password/i);
    const role = await app.call(`/api/users/${body.user.id}`, { method: "PUT", sessionId: session, body: { role: "operator" } });
    expect(await role.json()).toMatchObject({ username: "bob", role: "operator" });
    expect((await app.call(`/api/users/${body.user.id}`, { method: "DELETE", sessionId: session })).status).toBe(204);
    const gone = await app.call(`/api/users/${body.user.id}`, { sessionId: session });
    expect([gone.status, ((await gone.json()) as { code: string }).code]).toEqual([404, "ERR_AUTH_USER_NOT_FOUND"]);
  });

  it("refuses short passwords, duplicate names, bad usernames and unknown fields", async () => {
    const { app, session } = await adminApp({ password_min_length: 16 });
    await using _ = app;
    const cases = [
      { body: { username: "bob", password: "fifteen chars!!", role: "viewer" }, code: "ERR_AUTH_WEAK_PASSWORD" },
      { body: { username: "ROOT", password: PASSWORD, role: "viewer" }, code: "ERR_AUTH_USER_EXISTS" },
      { body: { username: "bob:evil", password: PASSWORD, role: "viewer" }, code: "ERR_AUTH_INVALID_INPUT" },
      { body: { username: "bob", password: PASSWORD, role: "root" }, code: "ERR_AUTH_INVALID_INPUT" },
      { body: { username: "bob", password: PASSWORD, role: "viewer", mfa: false }, code: "ERR_AUTH_INVALID_INPUT" },
    ];
    for (const { body, code } of cases) {
      const res = await app.call("/api/users", { sessionId: session, body });
      expect(((await res.json()) as { code: string }).code, JSON.stringify(body)).toBe(code);
    }
    expect(app.auth.listUsers()).toHaveLength(1);
  });

  it("never leaves the server without an admin", async () => {
    const { app, admin, session } = await adminApp();
    await using _ = app;
    const demote = await app.call(`/api/users/${admin.id}`, { method: "PUT", sessionId: session, body: { role: "viewer" } });
    expect(((await demote.json()) as { code: string }).code).toBe("ERR_AUTH_LAST_ADMIN");
    const remove = await app.call(`/api/users/${admin.id}`, { method: "DELETE", sessionId: session });
    expect(((await remove.json()) as { code: string }).code).toBe("ERR_AUTH_LAST_ADMIN");
  });

  it("lets an account change its own password but not its role or another account, and ends its sessions", async () => {
    const { app } = await adminApp();
    await using _ = app;
    const bob = await app.addUser({ username: "bob", role: "viewer" });
    const carol = await app.addUser({ username: "carol", role: "viewer" });
    const session = await loginOk(app, "bob", bob.secret!);
    const ownRole = await app.call(`/api/users/${bob.id}`, { method: "PUT", sessionId: session, body: { role: "admin" } });
    expect(ownRole.status).toBe(403);
    const other = await app.call(`/api/users/${carol.id}`, { method: "PUT", sessionId: session, body: { password: "another long passphrase" } });
    expect(other.status).toBe(403);
    expect((await app.call(`/api/users/${carol.id}`, { sessionId: session })).status).toBe(403);
    const noCurrent = await app.call(`/api/users/${bob.id}`, { method: "PUT", sessionId: session, body: { password: "another long passphrase" } });
    expect(((await noCurrent.json()) as { code: string }).code).toBe("ERR_AUTH_INVALID_INPUT");
    const badCurrent = await app.call(`/api/users/${bob.id}`, {
      method: "PUT",
      sessionId: session,
      body: { password: "another long passphrase", currentPassword: "a guessed passphrase" },
    });
    expect(((await badCurrent.json()) as { code: string }).code).toBe("ERR_AUTH_INVALID_CREDENTIALS");
    expect(app.db.prepare("SELECT failed_logins FROM users WHERE id = ?").get(bob.id)).toEqual({ failed_logins: 1 });
    const own = await app.call(`/api/users/${bob.id}`, {
      method: "PUT",
      sessionId: session,
      body: { password: "another long passphrase", currentPassword: PASSWORD },
    });
    expect(own.status).toBe(200);
    expect((await app.call("/api/users/current", { sessionId: session })).status).toBe(401);
    const relogin = await login(app, { username: "bob", password: "another long passphrase", totp: app.freshCode(bob.secret!) });
    expect(relogin.res.status).toBe(200);
  });

  it("deleting a user ends its sessions at once", async () => {
    const { app, session } = await adminApp();
    await using _ = app;
    const bob = await app.addUser({ username: "bob", role: "viewer" });
    const bobSession = await loginOk(app, "bob", bob.secret!);
    await app.call(`/api/users/${bob.id}`, { method: "DELETE", sessionId: session });
    expect((await app.call("/api/users/current", { sessionId: bobSession })).status).toBe(401);
  });

  it("re-enrollment makes the old authenticator useless; confirming needs a code from the new one", async () => {
    const { app } = await adminApp();
    await using _ = app;
    const bob = await app.addUser({ username: "bob", role: "viewer" });
    const session = await loginOk(app, "bob", bob.secret!);
    const enroll = await app.call("/api/users/current/_enrollMfa", { sessionId: session, body: {} });
    const { otpauthUri } = (await enroll.json()) as { otpauthUri: string };
    const fresh = secretOf(otpauthUri);
    expect(fresh).not.toEqual(bob.secret);
    expect(app.auth.getUser(bob.id)).toMatchObject({ mfaPending: true, mfaEnrolled: false });
    const wrong = await app.call("/api/users/current/_enrollMfa", { sessionId: session, body: { totp: app.freshCode(bob.secret!) } });
    expect(((await wrong.json()) as { code: string }).code).toBe("ERR_AUTH_INVALID_CREDENTIALS");
    const confirmed = await app.call("/api/users/current/_enrollMfa", { sessionId: session, body: { totp: app.freshCode(fresh) } });
    expect(await confirmed.json()).toMatchObject({ user: { mfaEnrolled: true, mfaPending: false } });
    const old = await login(app, { username: "bob", password: PASSWORD, totp: app.freshCode(bob.secret!) });
    expect(old.body.code).toBe("ERR_AUTH_INVALID_CREDENTIALS");
    await loginOk(app, "bob", fresh);
  });

  it("without mfa_required, accounts log in with a password until they enroll; then the first login verifies a code", async () => {
    await using app = await startAuthTestApp({ config: { mfa_required: false } });
    const created = await app.auth.createUser({ username: "dave", password: PASSWORD, role: "viewer" });
    expect(created.otpauthUri).toBeUndefined();
    const plain = await login(app, { username: "dave", password: PASSWORD });
    expect(plain.res.status).toBe(200);
    const enroll = await app.call(`/api/users/${created.user.id}/_enrollMfa`, { sessionId: plain.body.sessionId!, body: {} });
    const secret = secretOf(((await enroll.json()) as { otpauthUri: string }).otpauthUri);
    expect((await login(app, { username: "dave", password: PASSWORD })).body.code).toBe("ERR_AUTH_MFA_REQUIRED");
    const confirmed = await login(app, { username: "dave", password: PASSWORD, totp: app.freshCode(secret) });
    expect(confirmed.body.user).toMatchObject({ mfaEnrolled: true });
  });

  it("with mfa_required, an account without a secret cannot log in until an admin enrolls it", async () => {
    await using app = await startAuthTestApp();
    await app.auth.createUser({ username: "erin", password: PASSWORD, role: "viewer" });
    app.db.prepare("UPDATE users SET totp_secret = NULL").run();
    const res = await login(app, { username: "erin", password: PASSWORD });
    expect(res.body.code).toBe("ERR_AUTH_MFA_REQUIRED");
    expect(loginEntries(app)[0]!.details?.reason).toBe("mfa-not-enrolled");
  });
});
