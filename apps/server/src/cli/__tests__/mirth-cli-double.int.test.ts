import { chmod, stat, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EXIT } from "../exit-codes.js";
import { startApiDouble, type ApiDouble } from "./api-double.js";
import { assertCliBuilt, runBuiltCli } from "./run-built-cli.js";

const summary = (id: string, name: string) => ({ id, name, enabled: true, state: "started" });
const CHANNELS = [summary("mllps-rx", "MLLPS Receiver"), summary("dup-1", "Twin"), summary("dup-2", "Twin")];

/**
 * What a real server does not easily produce — a 500, a 503 health, a body that is not the
 * API's, a server that never answers, a stored session for another URL — and what is
 * refused before any request. The operator flows run against a real server in
 * mirth-cli-server.int.test.ts.
 */
describe("mirth-cli (built binary) against an HTTP double of the API", () => {
  let api: ApiDouble;
  let config: TempDir;
  let env: Record<string, string>;
  const sessionPath = () => join(config.path, "node-mirth", "session.json");

  beforeAll(() => {
    assertCliBuilt();
  });

  beforeEach(async () => {
    api = await startApiDouble();
    config = await createTempDir("mirth-cli-config-");
    env = { XDG_CONFIG_HOME: config.path, MIRTH_URL: api.url };
    api.routes.set("POST /api/users/_login", (request) => ({
      status: 200,
      body: {
        sessionId: "s3cr3t-session",
        user: { id: 7, username: (request.body as { username: string }).username, role: "operator", mfaEnrolled: true, mfaPending: false, createdAt: 0 },
      },
    }));
    api.routes.set("GET /api/channels", () => ({ status: 200, body: CHANNELS }));
  });

  afterEach(async () => {
    await api.close();
    await config.remove();
  });

  async function login(): Promise<void> {
    const run = await runBuiltCli(["login", "-u", "olivia", "--password-stdin", "--totp", "123456"], { env, input: "correct horse battery\n" });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.ok);
  }

  it("sends the password from stdin (one newline dropped) and the TOTP code; never prints the session", async () => {
    await login();
    expect(api.requests[0]!.body).toEqual({ username: "olivia", password: "correct horse battery", totp: "123456" });
    expect((await stat(sessionPath())).mode & 0o777).toBe(0o600);
    expect((await stat(join(config.path, "node-mirth"))).mode & 0o777).toBe(0o700);
  });

  it("exits 2 when there is neither --password-stdin nor a terminal, before any request", async () => {
    const run = await runBuiltCli(["login", "-u", "olivia"], { env });
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain("ERR_CLI_PASSWORD_UNAVAILABLE");
    expect(api.requests).toHaveLength(0);
  });

  it("sends the session as X-Session-ID to the channel its name resolves to", async () => {
    await login();
    api.routes.set("POST /api/channels/mllps-rx/_stop", () => ({ status: 200, body: { id: "mllps-rx", state: "stopped" } }));
    const run = await runBuiltCli(["channels", "stop", "MLLPS Receiver"], { env });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("stopped MLLPS Receiver (mllps-rx): now stopped\n");
    expect(api.requests.at(-1)!.headers["x-session-id"]).toBe("s3cr3t-session");
  });

  it("refuses an ambiguous name (exit 2, ids listed) and an unknown one (exit 5) without acting", async () => {
    await login();
    const twin = await runBuiltCli(["channels", "start", "Twin"], { env });
    expect(twin.code).toBe(EXIT.usage);
    expect(twin.stderr).toContain("ERR_CLI_CHANNEL_AMBIGUOUS");
    expect(twin.stderr).toContain("dup-1, dup-2");
    const missing = await runBuiltCli(["--json", "channels", "start", "Nope"], { env });
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.json()).toMatchObject({ error: { code: "ERR_CLI_CHANNEL_NOT_FOUND", exitCode: EXIT.notFound } });
    expect(api.requests.some((request) => request.path.endsWith("/_start"))).toBe(false);
  });

  it("maps statuses to exit codes: 401 → 3, 403 → 4, 404 → 5, 409/413/422 → 6, 500 → 1", async () => {
    await login();
    const cases = [
      [401, EXIT.unauthenticated],
      [403, EXIT.forbidden],
      [404, EXIT.notFound],
      [409, EXIT.rejected],
      [413, EXIT.rejected],
      [422, EXIT.rejected],
      [500, EXIT.failed],
    ] as const;
    for (const [status, exit] of cases) {
      api.routes.set("POST /api/channels/mllps-rx/_deploy", () => ({ status, body: { code: `ERR_TEST_${status}`, message: `answered ${status}` } }));
      const run = await runBuiltCli(["channels", "deploy", "mllps-rx"], { env });
      expect({ status, code: run.code }).toEqual({ status, code: exit });
      expect(run.stderr).toContain(`mirth-cli: ERR_TEST_${status}: answered ${status}`);
    }
  });

  it("exits 3 before any request when not logged in to this URL", async () => {
    const run = await runBuiltCli(["channels", "list"], { env });
    expect(run.code).toBe(EXIT.unauthenticated);
    expect(run.stderr).toContain("ERR_CLI_NOT_LOGGED_IN");
    expect(api.requests).toHaveLength(0);
  });

  it("does not send one server's session to another URL", async () => {
    await login();
    await using other = await startApiDouble();
    const run = await runBuiltCli(["--url", other.url, "channels", "list"], { env });
    expect(run.code).toBe(EXIT.unauthenticated);
    expect(other.requests).toHaveLength(0);
  });

  it("refuses a session file others can read (exit 1) and sends nothing", async () => {
    await login();
    await chmod(sessionPath(), 0o644);
    const before = api.requests.length;
    const run = await runBuiltCli(["channels", "list"], { env });
    expect(run.code).toBe(EXIT.failed);
    expect(run.stderr).toContain("ERR_CLI_SESSION_FILE_UNSAFE");
    expect(api.requests).toHaveLength(before);
  });

  it("builds the search query: repeated statuses and metadata, ISO time as epoch ms, limit, cursor", async () => {
    await login();
    api.routes.set("GET /api/channels/mllps-rx/messages", () => ({ status: 200, body: { messages: [] } }));
    const run = await runBuiltCli(
      ["messages", "search", "--channel", "MLLPS Receiver", "-s", "SENT", "ERROR", "--from", "2026-11-24T00:00:00Z", "--text", "ADT", "-m", "MRN=123", "-n", "10", "--before", "42"],
      { env },
    );
    expect(run.stderr).toBe("");
    const search = api.requests.at(-1)!;
    expect(search.query.getAll("status")).toEqual(["SENT", "ERROR"]);
    expect(search.query.get("from")).toBe(String(Date.UTC(2026, 10, 24)));
    expect(search.query.get("text")).toBe("ADT");
    expect(search.query.getAll("metadata")).toEqual(["MRN=123"]);
    expect(search.query.get("limit")).toBe("10");
    expect(search.query.get("before")).toBe("42");
    expect(run.stdout).toBe("ID  RECEIVED  STATUSES  METADATA\n");
  });

  it("rejects a bad time, status or doubled channel before asking the server (exit 2)", async () => {
    await login();
    const before = api.requests.length;
    for (const args of [["--from", "yesterday"], ["-s", "LOST"], ["--channel", "other"]]) {
      const run = await runBuiltCli(["messages", "search", "x", ...args], { env });
      expect({ args, code: run.code }).toEqual({ args, code: EXIT.usage });
    }
    expect(api.requests).toHaveLength(before);
  });

  it("masks control characters from the server in message content", async () => {
    await login();
    api.routes.set("GET /api/channels/mllps-rx/messages/42", () => ({
      status: 200,
      body: {
        channelId: "mllps-rx",
        messageId: 42,
        receivedAt: 0,
        metadata: {},
        connectors: [
          { channelId: "mllps-rx", messageId: 42, connectorId: "source", status: "TRANSFORMED", sendAttempts: 0, deadLetter: false, updatedAt: 0, content: { raw: "MSH|^~\\&|A\rPID|1||123\u001b[2J" } },
        ],
      },
    }));
    const run = await runBuiltCli(["messages", "show", "mllps-rx", "42", "-c", "raw"], { env });
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain("--- source raw\nMSH|^~\\&|A\nPID|1||123?[2J\n");
    expect(run.stdout).not.toContain("\u001b");
  });

  it("refuses an invalid channel file locally, listing every issue, without a request", async () => {
    await login();
    const file = join(config.path, "bad.json");
    await writeFile(file, JSON.stringify({ id: "bad id!", destinations: [] }));
    const before = api.requests.length;
    const invalid = await runBuiltCli(["--json", "channels", "import", file], { env });
    expect(invalid.code).toBe(EXIT.usage);
    const issues = (invalid.json() as { error: { details: { issues: { path: string }[] } } }).error.details.issues.map((issue) => issue.path);
    expect(issues).toEqual(expect.arrayContaining(["id", "name", "destinations"]));
    await writeFile(file, "{ not json");
    expect((await runBuiltCli(["channels", "import", file], { env })).stderr).toContain("is not JSON");
    expect(api.requests).toHaveLength(before);
  });

  it("health: 503 exits 8 naming the failing check; nothing listening exits 7", async () => {
    api.routes.set("GET /api/health", () => ({
      status: 503,
      body: { status: "unavailable", code: "ERR_API_NOT_READY", message: "A saved channel is not deployed or has failed.", checks: { store: true, channels: false } },
    }));
    const unready = await runBuiltCli(["health"], { env });
    expect(unready.code).toBe(EXIT.unhealthy);
    expect(unready.stderr).toContain("is not ready: A saved channel is not deployed or has failed. (store ok, channels FAILING)");
    const json = await runBuiltCli(["--json", "health"], { env });
    expect(json.json()).toMatchObject({ error: { code: "ERR_CLI_UNHEALTHY", exitCode: EXIT.unhealthy, details: { checks: { channels: false } } } });
    const url = api.url;
    await api.close();
    const down = await runBuiltCli(["health", "--url", url], { env });
    expect(down.code).toBe(EXIT.unreachable);
    expect(down.stderr).toContain("ERR_CLI_SERVER_UNREACHABLE");
  });

  it("gives up after --timeout on a server that accepts and never answers (exit 7)", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const run = await runBuiltCli(["health", "--timeout", "300", "--url", `http://127.0.0.1:${port}`], { env });
      expect(run.code).toBe(EXIT.unreachable);
      expect(run.stderr).toContain("did not answer within 300 ms");
    } finally {
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("exits 7 on an answer that is not the API's JSON", async () => {
    api.routes.set("GET /api/health", () => ({ status: 200, body: ["not", "health"] }));
    const run = await runBuiltCli(["health"], { env });
    expect(run.code).toBe(EXIT.unreachable);
    expect(run.stderr).toContain("ERR_CLI_BAD_RESPONSE");
  });

  it("refuses plain http to a non-loopback host unless MIRTH_ALLOW_INSECURE_TLS=1", async () => {
    const run = await runBuiltCli(["health", "--url", "http://192.0.2.1:8080"], { env });
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain("ERR_POLICY_INSECURE_TLS");
  });
});
