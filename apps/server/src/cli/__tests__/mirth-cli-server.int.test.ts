import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { hl7Message, sinkChannel, writerChannel } from "../../api/__tests__/api-fixtures.js";
import { startTestServer, type TestServer, type TestUser } from "../../__tests__/start-test-server.js";
import { EXIT } from "../exit-codes.js";
import { assertCliBuilt, runBuiltCli, type CliRun } from "./run-built-cli.js";

/**
 * The built mirth-cli against a real node-mirth (startTestServer: the API, auth with TOTP,
 * the engine and the SQLite store), one operator's day: log in, import and run channels by
 * name, find and reprocess messages, retry a dead letter, manage users, log out.
 */
describe("mirth-cli (built binary) against a running node-mirth", () => {
  let server: TestServer;
  let home: TempDir;
  let admin: TestUser;

  /** Each person has their own config dir, so their own session file. */
  const envOf = (who: string) => ({ XDG_CONFIG_HOME: join(home.path, who), MIRTH_URL: server.url });
  const cli = (who: string, args: readonly string[], input?: string): Promise<CliRun> =>
    runBuiltCli(args, { env: envOf(who), ...(input === undefined ? {} : { input }) });
  const as = (who: string) => (...args: string[]) => cli(who, args);

  async function logIn(user: TestUser): Promise<void> {
    const run = await cli(user.username, ["login", "-u", user.username, "--password-stdin", "--totp", user.nextTotp()], `${user.password}\n`);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.ok);
  }

  beforeAll(async () => {
    assertCliBuilt();
    home = await createTempDir("mirth-cli-home-");
    server = await startTestServer();
    admin = await server.createTestUser({ role: "admin" });
    await logIn(admin);
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await home?.remove();
  });

  it("login stored the session for this URL in a 0600 file and printed who is logged in, not the session", async () => {
    const file = join(home.path, admin.username, "node-mirth", "session.json");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(await readFile(file, "utf8")) as { sessions: Record<string, { sessionId: string; role: string }> };
    expect(stored.sessions[server.url]).toMatchObject({ role: "admin" });
    // The stored session is live on the server.
    const current = await fetch(`${server.url}/api/users/current`, { headers: { "x-session-id": stored.sessions[server.url]!.sessionId } });
    expect(current.status).toBe(200);
  });

  it("a wrong password exits 3 with the server's code and stores nothing", async () => {
    const user = await server.createTestUser({ role: "viewer" });
    const run = await cli("intruder", ["login", "-u", user.username, "--password-stdin", "--totp", user.nextTotp()], "not the password\n");
    expect(run.code).toBe(EXIT.unauthenticated);
    expect(run.stderr).toContain("ERR_AUTH_INVALID_CREDENTIALS");
    await expect(stat(join(home.path, "intruder", "node-mirth", "session.json"))).rejects.toThrow(/ENOENT/);
  });

  it("imports, deploys, stops, starts, pauses and resumes a channel by its name", async () => {
    const admin$ = as(admin.username);
    const file = join(home.path, "mllps.json");
    await writeFile(file, JSON.stringify({ ...sinkChannel("mllps-rx"), name: "MLLPS Receiver" }));
    expect((await admin$("channels", "import", file)).stdout).toBe("created MLLPS Receiver (mllps-rx)\n");
    const listed = await admin$("--json", "channels", "list");
    expect(listed.json()).toEqual([expect.objectContaining({ id: "mllps-rx", name: "MLLPS Receiver", state: "undeployed", enabled: true })]);

    const notDeployed = await admin$("channels", "start", "MLLPS Receiver");
    expect(notDeployed.code).toBe(EXIT.rejected);
    expect(notDeployed.stderr).toContain("ERR_CHANNEL_NOT_DEPLOYED");

    for (const [action, state] of [["deploy", "started"], ["stop", "stopped"], ["start", "started"], ["pause", "paused"], ["resume", "started"], ["halt", "stopped"], ["start", "started"]] as const) {
      const run = await admin$("channels", action, "MLLPS Receiver");
      expect({ action, stderr: run.stderr, code: run.code }).toEqual({ action, stderr: "", code: EXIT.ok });
      expect(run.stdout).toMatch(new RegExp(`\\(mllps-rx\\): now ${state}\\n$`));
      expect(server.engine.status("mllps-rx").state).toBe(state);
    }
    const table = await admin$("channels", "list");
    expect(table.stdout).toMatch(/^mllps-rx\s+MLLPS Receiver\s+yes\s+started$/m);
  });

  it("status lists every channel with its counts, undeployed ones included", async () => {
    const admin$ = as(admin.username);
    const file = join(home.path, "idle.json");
    await writeFile(file, JSON.stringify({ ...sinkChannel("idle"), name: "Idle Channel" }));
    expect((await admin$("channels", "import", file)).code).toBe(EXIT.ok);
    const status = await admin$("channels", "status");
    expect(status.stderr).toBe("");
    expect(status.stdout).toMatch(/^ID\s+NAME\s+STATE\s+RECEIVED\s+FILTERED\s+QUEUED\s+SENT\s+ERRORED$/m);
    expect(status.stdout).toMatch(/^mllps-rx\s+MLLPS Receiver\s+started\s+0\s+0\s+0\s+0\s+0$/m);
    expect(status.stdout).toMatch(/^idle\s+Idle Channel\s+undeployed\s+0/m);
    expect((await admin$("channels", "deploy", "Idle Channel")).code).toBe(EXIT.ok);
  });

  it("exports a channel and imports the export back over it (PUT), unchanged", async () => {
    const admin$ = as(admin.username);
    const exported = await admin$("channels", "export", "MLLPS Receiver");
    expect(exported.code).toBe(EXIT.ok);
    const file = join(home.path, "exported.json");
    await writeFile(file, exported.stdout);
    const reimported = await admin$("channels", "import", file);
    expect(reimported.stdout).toBe("replaced MLLPS Receiver (mllps-rx)\n");
    expect((await admin$("channels", "export", "mllps-rx")).stdout).toBe(exported.stdout);
  });

  it("searches, shows and reprocesses messages; status counts them", async () => {
    for (const patientId of ["P-1", "P-2"]) {
      await server.engine.dispatch("mllps-rx", { content: hl7Message({ controlId: `C${patientId}`, patientId }) });
    }
    const admin$ = as(admin.username);
    const found = await admin$("--json", "messages", "search", "MLLPS Receiver", "--text", "P-2");
    expect(found.code).toBe(EXIT.ok);
    const page = found.json() as { messages: { messageId: number }[] };
    expect(page.messages).toHaveLength(1);
    const messageId = page.messages[0]!.messageId;

    const table = await admin$("messages", "search", "MLLPS Receiver", "-n", "1");
    expect(table.stdout).toMatch(/^ID\s+RECEIVED\s+STATUSES\s+METADATA$/m);
    expect(table.stdout).toContain("more: --before ");

    const shown = await admin$("messages", "show", "MLLPS Receiver", String(messageId), "-c", "raw");
    expect(shown.code).toBe(EXIT.ok);
    expect(shown.stdout).toContain("--- source raw\nMSH|^~\\&|LAB|HOSP|EHR|HOSP|20260101120000||ADT^A01|CP-2|P|2.5\nPID|1||P-2^^^HOSP^MR||DOE^JANE\n");

    const reprocessed = await admin$("--json", "messages", "reprocess", "MLLPS Receiver", String(messageId));
    expect(reprocessed.code).toBe(EXIT.ok);
    expect(reprocessed.json()).toMatchObject({ channelId: "mllps-rx", results: [expect.objectContaining({ status: expect.any(String) as string })] });

    const status = await admin$("--json", "channels", "status", "MLLPS Receiver");
    expect(status.json()).toMatchObject({ id: "mllps-rx", state: "started", statistics: { source: { received: 3 } } });
    const missing = await admin$("messages", "show", "mllps-rx", "999999");
    expect(missing.code).toBe(EXIT.notFound);
  });

  it("lists a dead letter and retries it", async () => {
    const admin$ = as(admin.username);
    const doomedFile = join(home.path, "doomed.json");
    await writeFile(doomedFile, JSON.stringify(writerChannel({ id: "doomed", targetChannelId: "nowhere", retryCount: 0 })));
    expect((await admin$("channels", "import", doomedFile, "--deploy")).stdout).toBe("created Writer doomed (doomed) and deployed it\n");
    await server.engine.dispatch("doomed", { content: hl7Message({ controlId: "D1", patientId: "P-D" }) });
    let dead: { messageId: number }[] = [];
    await vi.waitFor(async () => {
      dead = (await admin$("--json", "queue", "list", "doomed", "--dead-letter")).json() as { messageId: number }[];
      expect(dead).toHaveLength(1);
    }, { timeout: 10_000, interval: 100 });
    const table = await admin$("queue", "list", "doomed", "--dead-letter");
    expect(table.stdout).toMatch(new RegExp(`^${dead[0]!.messageId}\\s+to-target\\s+DEAD-LETTER\\s+`, "m"));
    const retried = await admin$("queue", "retry", "doomed", "--all");
    expect(retried.stderr).toBe("");
    expect(retried.stdout).toBe("re-queued 1 of 1 dead letter(s) of Writer doomed (doomed)\n");
  });

  it("manages users: add prints the enrolment URI, the new user logs in, set-role changes what they may do", async () => {
    const admin$ = as(admin.username);
    const added = await cli(admin.username, ["--json", "users", "add", "vera", "--role", "viewer", "--password-stdin"], "vera's long password\n");
    expect(added.code).toBe(EXIT.ok);
    const created = added.json() as { user: { username: string; role: string }; otpauthUri: string };
    expect(created.user).toMatchObject({ username: "vera", role: "viewer" });
    expect(created.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const list = await admin$("users", "list");
    expect(list.stdout).toMatch(/^\d+\s+vera\s+viewer\s+pending/m);

    const viewer = await server.createTestUser({ role: "viewer" });
    await logIn(viewer);
    const viewer$ = as(viewer.username);
    expect((await viewer$("channels", "list")).code).toBe(EXIT.ok);
    const forbidden = await viewer$("messages", "search", "MLLPS Receiver");
    expect(forbidden.code).toBe(EXIT.forbidden);
    expect(forbidden.stderr).toContain("mirth-cli: ERR_API_FORBIDDEN");
    expect((await viewer$("users", "list")).code).toBe(EXIT.forbidden);

    expect((await admin$("users", "set-role", viewer.username, "operator")).stdout).toBe(`${viewer.username} is now operator\n`);
    expect((await viewer$("messages", "search", "MLLPS Receiver")).code).toBe(EXIT.ok);
    expect((await admin$("users", "set-role", "nobody", "viewer")).code).toBe(EXIT.notFound);
    const weak = await cli(admin.username, ["users", "add", "shorty", "--role", "viewer", "--password-stdin"], "short\n");
    expect(weak.code).toBe(EXIT.rejected);
  });

  it("health needs no login; a session the server no longer knows exits 3 with the hint to log in", async () => {
    const health = await cli("anonymous", ["--json", "health"]);
    expect(health.code).toBe(EXIT.ok);
    expect(health.json()).toMatchObject({ status: "ok", checks: { store: true, channels: true } });

    const operator = await server.createTestUser({ role: "operator" });
    await logIn(operator);
    const file = join(home.path, operator.username, "node-mirth", "session.json");
    const stored = JSON.parse(await readFile(file, "utf8")) as { sessions: Record<string, { sessionId: string }> };
    stored.sessions[server.url]!.sessionId = "forged-or-expired";
    await writeFile(file, JSON.stringify(stored), { mode: 0o600 });
    const run = await cli(operator.username, ["channels", "list"]);
    expect(run.code).toBe(EXIT.unauthenticated);
    expect(run.stderr).toContain("run `mirth-cli login` again");
  });

  it("logout ends the session on the server too", async () => {
    const operator = await server.createTestUser({ role: "operator" });
    await logIn(operator);
    const file = join(home.path, operator.username, "node-mirth", "session.json");
    const sessionId = (JSON.parse(await readFile(file, "utf8")) as { sessions: Record<string, { sessionId: string }> }).sessions[server.url]!.sessionId;
    const out = await cli(operator.username, ["logout"]);
    expect(out.stdout).toBe(`logged out of ${server.url}\n`);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
    const after = await fetch(`${server.url}/api/users/current`, { headers: { "x-session-id": sessionId } });
    expect(after.status).toBe(401);
    expect((await cli(operator.username, ["channels", "list"])).code).toBe(EXIT.unauthenticated);
  });
});
