import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { join } from "node:path";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { EXIT } from "../exit-codes.js";
import { startApiDouble, type ApiDouble } from "./api-double.js";
import { assertCliBuilt, runBuiltCli } from "./run-built-cli.js";

const CHANNELS = [
  { id: "mllps-rx", name: "MLLPS Receiver", enabled: true },
  { id: "lab-out", name: "Lab Out", enabled: false },
  { id: "dup-1", name: "Twin", enabled: true },
  { id: "dup-2", name: "Twin", enabled: true },
];

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
    api.routes.set("POST /api/users/_login", (request) => {
      const body = request.body as { username: string; password: string; totp?: string };
      if (body.password !== "correct horse battery") return { status: 401, body: { code: "ERR_AUTH_INVALID_CREDENTIALS", message: "wrong username or password" } };
      if (body.totp === undefined) return { status: 401, body: { code: "ERR_AUTH_MFA_REQUIRED", message: "a TOTP code is required" } };
      return { status: 200, body: { sessionId: "s3cr3t-session", user: { id: 7, username: body.username, role: "operator" } } };
    });
    api.routes.set("GET /api/channels", () => ({ status: 200, body: CHANNELS }));
    api.routes.set("GET /api/channels/statuses", () => ({
      status: 200,
      body: [{ id: "mllps-rx", name: "MLLPS Receiver", state: "started" }],
    }));
  });

  afterEach(async () => {
    await api.close();
    await config.remove();
  });

  async function login(): Promise<void> {
    const run = await runBuiltCli(["login", "-u", "olivia", "--password-stdin", "--totp", "123456"], {
      env,
      input: "correct horse battery\n",
    });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.ok);
  }

  it("logs in with --password-stdin and --totp, keeps the session in a 0600 file in a 0700 dir, never prints it", async () => {
    const run = await runBuiltCli(["login", "-u", "olivia", "--password-stdin", "--totp", "123456"], {
      env,
      input: "correct horse battery\n",
    });
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe(`logged in to ${api.url} as olivia (operator)\n`);
    expect(run.stdout + run.stderr).not.toContain("s3cr3t-session");
    expect(api.requests[0]!.body).toEqual({ username: "olivia", password: "correct horse battery", totp: "123456" });
    expect((await stat(sessionPath())).mode & 0o777).toBe(0o600);
    expect((await stat(join(config.path, "node-mirth"))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await readFile(sessionPath(), "utf8")) as { sessions: Record<string, { sessionId: string }> };
    expect(stored.sessions[api.url]!.sessionId).toBe("s3cr3t-session");
  });

  it("exits 3 with the server's code when the password is wrong, and writes no session", async () => {
    const run = await runBuiltCli(["login", "-u", "olivia", "--password-stdin"], { env, input: "wrong password!!\n" });
    expect(run.code).toBe(EXIT.unauthenticated);
    expect(run.stderr).toContain("ERR_AUTH_INVALID_CREDENTIALS");
    await expect(stat(sessionPath())).rejects.toThrow(/ENOENT/);
  });

  it("exits 2 when there is neither --password-stdin nor a terminal", async () => {
    const run = await runBuiltCli(["login", "-u", "olivia"], { env });
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toContain("ERR_CLI_PASSWORD_UNAVAILABLE");
    expect(api.requests).toHaveLength(0);
  });

  it("stops a channel named by its name, sending the session as X-Session-ID", async () => {
    await login();
    api.routes.set("POST /api/channels/mllps-rx/_stop", () => ({ status: 204 }));
    const run = await runBuiltCli(["channels", "stop", "MLLPS Receiver"], { env });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toBe("stopped MLLPS Receiver (mllps-rx)\n");
    const stop = api.requests.find((request) => request.path === "/api/channels/mllps-rx/_stop")!;
    expect(stop.method).toBe("POST");
    expect(stop.headers["x-session-id"]).toBe("s3cr3t-session");
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

  it("lists channels as a table and as JSON, undeployed ones marked so", async () => {
    await login();
    const table = await runBuiltCli(["channels", "list"], { env });
    expect(table.code).toBe(EXIT.ok);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+NAME\s+ENABLED\s+STATE$/);
    expect(lines[1]).toMatch(/^mllps-rx\s+MLLPS Receiver\s+yes\s+started$/);
    expect(lines[2]).toMatch(/^lab-out\s+Lab Out\s+no\s+undeployed$/);
    const json = await runBuiltCli(["channels", "list", "--json"], { env });
    expect(json.json()).toEqual(CHANNELS.map((channel) => ({ ...channel, state: channel.id === "mllps-rx" ? "started" : "undeployed" })));
  });

  it("maps the API's statuses to exit codes: 401 → 3, 403 → 4, 404 → 5, 409 → 6, 500 → 1", async () => {
    await login();
    const cases = [
      [401, EXIT.unauthenticated],
      [403, EXIT.forbidden],
      [404, EXIT.notFound],
      [409, EXIT.rejected],
      [500, EXIT.failed],
    ] as const;
    for (const [status, exit] of cases) {
      api.routes.set("POST /api/channels/mllps-rx/_deploy", () => ({ status, body: { code: `ERR_TEST_${status}`, message: `answered ${status}` } }));
      const run = await runBuiltCli(["channels", "deploy", "mllps-rx"], { env });
      expect({ status, code: run.code }).toEqual({ status, code: exit });
      expect(run.stderr).toContain(`mirth-cli: ERR_TEST_${status}: answered ${status}`);
      if (status === 401) expect(run.stderr).toContain("run `mirth-cli login` again");
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

  it("logs out on the server and removes the session file; a second logout is a no-op", async () => {
    await login();
    api.routes.set("POST /api/users/_logout", () => ({ status: 204 }));
    const run = await runBuiltCli(["logout"], { env });
    expect(run.code).toBe(EXIT.ok);
    expect(api.requests.at(-1)!.headers["x-session-id"]).toBe("s3cr3t-session");
    await expect(stat(sessionPath())).rejects.toThrow(/ENOENT/);
    const again = await runBuiltCli(["logout"], { env });
    expect(again.code).toBe(EXIT.ok);
    expect(again.stdout).toBe(`not logged in to ${api.url}\n`);
  });

  it("searches messages with the filters as query parameters and prints the next-page cursor", async () => {
    await login();
    api.routes.set("GET /api/channels/mllps-rx/messages", () => ({
      status: 200,
      body: {
        messages: [{ channelId: "mllps-rx", messageId: 42, receivedAt: Date.UTC(2026, 10, 24, 8), statuses: { source: "TRANSFORMED", d1: "SENT" }, metadata: { MRN: "123" } }],
        nextCursor: 42,
      },
    }));
    const run = await runBuiltCli(
      ["messages", "search", "MLLPS Receiver", "-s", "SENT", "ERROR", "--from", "2026-11-24T00:00:00Z", "--text", "ADT", "-m", "MRN=123", "-n", "10"],
      { env },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(EXIT.ok);
    const search = api.requests.at(-1)!;
    expect(search.query.getAll("status")).toEqual(["SENT", "ERROR"]);
    expect(search.query.get("from")).toBe(String(Date.UTC(2026, 10, 24)));
    expect(search.query.get("text")).toBe("ADT");
    expect(search.query.getAll("metadata")).toEqual(["MRN=123"]);
    expect(search.query.get("limit")).toBe("10");
    expect(run.stdout).toMatch(/^42\s+2026-11-24T08:00:00Z\s+source=TRANSFORMED d1=SENT\s+MRN=123$/m);
    expect(run.stdout).toContain("more: --before 42");
    const byOption = await runBuiltCli(["messages", "search", "--channel", "MLLPS Receiver", "--before", "42"], { env });
    expect(byOption.code).toBe(EXIT.ok);
    expect(api.requests.at(-1)!.query.get("before")).toBe("42");
    const twice = await runBuiltCli(["messages", "search", "mllps-rx", "--channel", "MLLPS Receiver"], { env });
    expect(twice.code).toBe(EXIT.usage);
  });

  it("rejects a bad time or status before asking the server (exit 2)", async () => {
    await login();
    const before = api.requests.length;
    const time = await runBuiltCli(["messages", "search", "x", "--from", "yesterday"], { env });
    expect(time.code).toBe(EXIT.usage);
    const status = await runBuiltCli(["messages", "search", "x", "-s", "LOST"], { env });
    expect(status.code).toBe(EXIT.usage);
    expect(api.requests).toHaveLength(before);
  });

  it("shows a message with its raw content, masking control characters from the server", async () => {
    await login();
    api.routes.set("GET /api/channels/mllps-rx/messages/42", () => ({
      status: 200,
      body: {
        channelId: "mllps-rx",
        messageId: 42,
        receivedAt: 0,
        metadata: {},
        connectors: [{ connectorId: "source", status: "TRANSFORMED", content: { raw: "MSH|^~\\&|A\rPID|1||123\u001b[2J" } }],
      },
    }));
    const run = await runBuiltCli(["messages", "show", "mllps-rx", "42", "-c", "raw"], { env });
    expect(run.code).toBe(EXIT.ok);
    expect(run.stdout).toContain("--- source raw\nMSH|^~\\&|A\nPID|1||123?[2J\n");
    expect(run.stdout).not.toContain("\u001b");
  });

  it("imports a channel file: POST when new, PUT when it exists; an invalid file is refused locally with every issue", async () => {
    await login();
    const channel = {
      id: "lab-in",
      name: "Lab In",
      source: { type: "mllp", properties: {} },
      destinations: [{ id: "d1", name: "keep", connector: { type: "channel", properties: {} } }],
    };
    const file = join(config.path, "lab-in.json");
    await writeFile(file, JSON.stringify(channel));
    api.routes.set("POST /api/channels", () => ({ status: 201, body: channel }));
    const created = await runBuiltCli(["channels", "import", file], { env });
    expect(created.stderr).toBe("");
    expect(created.stdout).toBe("created Lab In (lab-in)\n");
    expect(api.requests.at(-1)!.body).toEqual(channel);
    api.routes.set("GET /api/channels/lab-in", () => ({ status: 200, body: channel }));
    api.routes.set("PUT /api/channels/lab-in", () => ({ status: 200, body: channel }));
    const replaced = await runBuiltCli(["channels", "import", file], { env });
    expect(replaced.stdout).toBe("replaced Lab In (lab-in)\n");
    await writeFile(file, JSON.stringify({ id: "bad id!", destinations: [] }));
    const before = api.requests.length;
    const invalid = await runBuiltCli(["--json", "channels", "import", file], { env });
    expect(invalid.code).toBe(EXIT.usage);
    const issues = (invalid.json() as { error: { details: { issues: { path: string }[] } } }).error.details.issues.map((issue) => issue.path);
    expect(issues).toEqual(expect.arrayContaining(["id", "name", "destinations"]));
    expect(api.requests).toHaveLength(before);
  });

  it("exports a channel by name as JSON", async () => {
    await login();
    const document = { id: "lab-out", name: "Lab Out", destinations: [] };
    api.routes.set("GET /api/channels/lab-out", () => ({ status: 200, body: document }));
    const run = await runBuiltCli(["channels", "export", "Lab Out"], { env });
    expect(run.code).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout)).toEqual(document);
  });

  it("adds a user with the password from stdin and prints the otpauth URI; set-role finds the user by name", async () => {
    await login();
    api.routes.set("POST /api/users", (request) => ({
      status: 201,
      body: { user: { id: 9, username: (request.body as { username: string }).username, role: "viewer" }, otpauthUri: "otpauth://totp/node-mirth:vera?secret=ABC" },
    }));
    const add = await runBuiltCli(["users", "add", "vera", "--role", "viewer", "--password-stdin"], { env, input: "a long enough password\n" });
    expect(add.code).toBe(EXIT.ok);
    expect(api.requests.at(-1)!.body).toEqual({ username: "vera", password: "a long enough password", role: "viewer" });
    expect(add.stdout).toContain("otpauth://totp/node-mirth:vera?secret=ABC");
    api.routes.set("GET /api/users", () => ({ status: 200, body: [{ id: 9, username: "vera", role: "viewer" }] }));
    api.routes.set("PUT /api/users/9", () => ({ status: 200, body: { id: 9, username: "vera", role: "operator" } }));
    const setRole = await runBuiltCli(["users", "set-role", "vera", "operator"], { env });
    expect(setRole.code).toBe(EXIT.ok);
    expect(api.requests.at(-1)!.body).toEqual({ role: "operator" });
    const badRole = await runBuiltCli(["users", "set-role", "vera", "root"], { env });
    expect(badRole.code).toBe(EXIT.usage);
    const nobody = await runBuiltCli(["users", "set-role", "nobody", "viewer"], { env });
    expect(nobody.code).toBe(EXIT.notFound);
  });

  it("retries dead letters of one message, and refuses when none match", async () => {
    await login();
    api.routes.set("GET /api/channels/mllps-rx/queue", () => ({
      status: 200,
      body: [
        { messageId: 5, connectorId: "d1", status: "ERROR", deadLetter: true, sendAttempts: 3 },
        { messageId: 6, connectorId: "d1", status: "ERROR", deadLetter: true, sendAttempts: 3 },
      ],
    }));
    api.routes.set("POST /api/channels/mllps-rx/queue/_retry", (request) => ({
      status: 200,
      body: { requeued: (request.body as { entries: unknown[] }).entries.length },
    }));
    const run = await runBuiltCli(["queue", "retry", "MLLPS Receiver", "5"], { env });
    expect(run.stderr).toBe("");
    expect(api.requests.at(-1)!.body).toEqual({ entries: [{ messageId: 5, destinationId: "d1" }] });
    expect(run.stdout).toContain("re-queued 1 of 1");
    const none = await runBuiltCli(["queue", "retry", "MLLPS Receiver", "99"], { env });
    expect(none.code).toBe(EXIT.usage);
  });

  it("health: exit 0 when ready, 8 when the server answers 503, 7 when nothing listens", async () => {
    api.routes.set("GET /api/health", () => ({ status: 200, body: { status: "ok" } }));
    const ready = await runBuiltCli(["health", "--json"], { env });
    expect(ready.code).toBe(EXIT.ok);
    expect(ready.json()).toEqual({ url: api.url, status: "ok" });
    api.routes.set("GET /api/health", () => ({ status: 503, body: { code: "ERR_SERVER_NOT_READY", message: "store unreachable" } }));
    const unready = await runBuiltCli(["health"], { env });
    expect(unready.code).toBe(EXIT.unhealthy);
    expect(unready.stderr).toContain("store unreachable");
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
