import { createTempDir, runCommand, TS_SOURCE_HOOK } from "@node-mirth/test-peers";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startTestServer } from "../__tests__/start-test-server.js";
import { base32Decode } from "../auth/base32.js";
import { totpCode } from "../auth/totp.js";

const MAIN = join(import.meta.dirname, "..", "main.ts");

function adminCreate(args: string[], options: { input?: string; env: Record<string, string> }) {
  return runCommand(process.execPath, ["--import", TS_SOURCE_HOOK, MAIN, "admin", "create", ...args], {
    env: options.env,
    ...(options.input === undefined ? {} : { input: options.input }),
    timeoutMs: 30_000,
  });
}

describe("node-mirth admin create", () => {
  it("creates the first admin in server.db from a password on stdin and prints the enrollment URI", async () => {
    await using dir = await createTempDir();
    const env = { MIRTH_DATA_DIR: join(dir.path, "data") };
    const result = await adminCreate(["--username", "alice", "--password-stdin"], { input: "a long passphrase here\n", env });
    expect(result.stderr.toString()).toBe("");
    expect(result.code).toBe(0);
    const uri = /otpauth:\/\/totp\/\S+/.exec(result.stdout.toString())?.[0];
    expect(uri).toContain("node-mirth:alice");
    const secret = base32Decode(new URL(uri!).searchParams.get("secret")!)!;

    // The server started on that data directory knows her: password (without the line end) and TOTP.
    await using server = await startTestServer({ dataDir: env.MIRTH_DATA_DIR });
    const login = await server.auth.login({ username: "alice", password: "a long passphrase here", totp: totpCode(secret, Date.now()) });
    expect(login.user).toMatchObject({ username: "alice", role: "admin" });
    const actions = server.audit.list({ limit: 10 }).map((entry) => entry.action);
    expect(actions).toContain("user.create");
  });

  it("refuses a password given any other way than stdin (exit 2)", async () => {
    await using dir = await createTempDir();
    const result = await adminCreate(["--username", "bob"], { env: { MIRTH_DATA_DIR: dir.path } });
    expect(result.code).toBe(2);
    expect(result.stderr.toString()).toContain("--password-stdin");
  });

  it("refuses a password shorter than 12 characters and an unknown role, creating nothing", async () => {
    await using dir = await createTempDir();
    const env = { MIRTH_DATA_DIR: dir.path };
    const short = await adminCreate(["--username", "carol", "--password-stdin"], { input: "too-short", env });
    expect(short.code).toBe(1);
    expect(short.stderr.toString()).toMatch(/12/);
    const role = await adminCreate(["--username", "carol", "--role", "root", "--password-stdin"], { input: "a long passphrase here", env });
    expect(role.code).toBe(2);
    expect(role.stderr.toString()).toContain("admin, developer, operator, viewer");
    await using server = await startTestServer({ dataDir: dir.path });
    expect(server.auth.listUsers()).toEqual([]);
  });
});
