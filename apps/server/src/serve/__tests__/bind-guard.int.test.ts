import { createTempDir, runCommand, TS_SOURCE_HOOK } from "@node-mirth/test-peers";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startTestServer } from "../../__tests__/start-test-server.js";

const MAIN = join(import.meta.dirname, "..", "..", "main.ts");

/** `node-mirth serve` from source in a child process, as an operator runs it. */
function serve(env: Record<string, string>, args: string[] = []) {
  return runCommand(process.execPath, ["--import", TS_SOURCE_HOOK, MAIN, "serve", ...args], { env, timeoutMs: 30_000 });
}

describe("the API bind guard", () => {
  it("refuses HOST=0.0.0.0 without TLS: exit 2, the fix named, nothing opened", async () => {
    await using dir = await createTempDir();
    const dataDir = join(dir.path, "data");
    const result = await serve({ HOST: "0.0.0.0", PORT: "0", MIRTH_DATA_DIR: dataDir });
    expect(result.code).toBe(2);
    const stderr = result.stderr.toString();
    expect(stderr).toContain('The API would listen on "0.0.0.0" without TLS');
    expect(stderr).toContain("TLS_CERT and TLS_KEY");
    expect(stderr).toContain("tls_terminated_upstream = true with trusted_proxies");
    expect(existsSync(dataDir)).toBe(false);
  });

  it("exits 2 naming every bad key (and its variable) before starting anything", async () => {
    await using dir = await createTempDir();
    const result = await serve({ PORT: "eighty", TLS_KEY: "/nowhere/key.pem", MIRTH_DATA_DIR: join(dir.path, "data") });
    expect(result.code).toBe(2);
    const stderr = result.stderr.toString();
    expect(stderr).toContain("api.port (from PORT)");
    expect(stderr).toContain("api.tls_cert_file");
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("starts off loopback behind a trusted TLS-terminating proxy (tls_terminated_upstream + trusted_proxies)", async () => {
    await using server = await startTestServer({
      config: { api: { host: "0.0.0.0", tls_terminated_upstream: true, trusted_proxies: ["127.0.0.1"] } },
    });
    expect(server.logs.some((line) => line.includes('"bind":"upstream-tls"'))).toBe(true);
    const forwarded = await fetch(`${server.url}/api/health/live`, { headers: { "X-Forwarded-Proto": "https" } });
    expect(forwarded.status).toBe(200);
    expect(forwarded.headers.get("strict-transport-security")).toContain("max-age=");
    // Not forwarded as https: the API itself is not served, only the probes.
    expect((await fetch(`${server.url}/api/channels`)).status).toBe(421);
    // Forwarded as https by the trusted proxy: the API answers and the session cookie is Secure.
    const user = await server.createTestUser();
    const login = await fetch(`${server.url}/api/users/_login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-proto": "https" },
      body: JSON.stringify({ username: user.username, password: user.password, totp: user.nextTotp() }),
    });
    expect(login.status).toBe(200);
    expect(login.headers.get("set-cookie")).toMatch(/;\s*Secure/i);
  });

  it("believes X-Forwarded-Proto only from trusted_proxies", async () => {
    await using server = await startTestServer({
      config: { api: { tls_terminated_upstream: true, trusted_proxies: ["10.20.30.40"] } },
    });
    const spoofed = await fetch(`${server.url}/api/channels`, { headers: { "X-Forwarded-Proto": "https" } });
    expect(spoofed.status).toBe(421);
    expect(spoofed.headers.get("strict-transport-security")).toBeNull();
  });

  it("lets --allow-insecure-bind through with a loud warning in the log", async () => {
    await using server = await startTestServer({ allowInsecureBind: true, env: { HOST: "0.0.0.0" } });
    const warning = server.logs.find((line) => line.includes("WARN_POLICY_INSECURE_BIND"));
    expect(warning).toContain("SECURITY WARNING");
    expect(server.logs.some((line) => line.includes('"bind":"insecure-allowed"'))).toBe(true);
  });
});

describe("node-mirth serve start-up failures", () => {
  it("says in one line when the API port is taken, and exits 1", async () => {
    await using server = await startTestServer();
    await using dir = await createTempDir();
    const port = new URL(server.url).port;
    const result = await serve({ PORT: port, MIRTH_DATA_DIR: join(dir.path, "data") });
    expect(result.code).toBe(1);
    expect(result.stderr.toString()).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
    expect(result.stderr.toString()).not.toMatch(/\n\s+at /);
  });
});
