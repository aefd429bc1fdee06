import { join } from "node:path";
import { createTempDir, describeWithPeers, makeTestPki, type TempDir, type TestPki } from "@node-mirth/test-peers";
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { startTestServer } from "../../__tests__/start-test-server.js";
import { EXIT } from "../exit-codes.js";
import { assertCliBuilt, runBuiltCli } from "./run-built-cli.js";

describeWithPeers("mirth-cli (built binary) against a running node-mirth", ["openssl"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  let env: Record<string, string>;

  beforeAll(async () => {
    assertCliBuilt();
    dir = await createTempDir("mirth-cli-int-");
    pki = await makeTestPki(join(dir.path), peers.bin.openssl);
  });
  afterAll(async () => {
    await dir?.remove();
  });
  beforeEach(() => {
    env = { XDG_CONFIG_HOME: join(dir.path, "config") };
  });

  it("health answers ready over plain http on loopback, as a table and as JSON", async () => {
    await using server = await startTestServer();
    const table = await runBuiltCli(["health", "--url", server.url], { env });
    expect(table.stderr).toBe("");
    expect(table.code).toBe(EXIT.ok);
    expect(table.stdout).toMatch(/^status\s+ok$/m);
    const live = await runBuiltCli(["--json", "health", "--live"], { env: { ...env, MIRTH_URL: server.url } });
    expect(live.code).toBe(EXIT.ok);
    expect(live.json()).toMatchObject({ url: server.url, status: "ok" });
  });

  it("over HTTPS verifies the server certificate: trusted through NODE_EXTRA_CA_CERTS, exit 7 without it", async () => {
    await using server = await startTestServer({ env: { TLS_CERT: pki.serverCert, TLS_KEY: pki.serverKey } });
    const httpsUrl = server.httpsUrl!;
    const trusted = await runBuiltCli(["health", "--url", httpsUrl], { env: { ...env, NODE_EXTRA_CA_CERTS: pki.caCert } });
    expect(trusted.stderr).toBe("");
    expect(trusted.code).toBe(EXIT.ok);
    const untrusted = await runBuiltCli(["health", "--url", httpsUrl], { env });
    expect(untrusted.code).toBe(EXIT.unreachable);
    expect(untrusted.stderr).toMatch(/ERR_CLI_SERVER_UNREACHABLE: cannot reach https:\/\/127\.0\.0\.1:\d+ \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/);
  });

  it("over mTLS presents --cert/--key; a server requiring client certificates refuses the CLI without them", async () => {
    await using server = await startTestServer({
      env: { TLS_CERT: pki.serverCert, TLS_KEY: pki.serverKey },
      config: { api: { tls_client_ca_file: pki.caCert } },
    });
    const httpsUrl = server.httpsUrl!;
    const withCert = await runBuiltCli(["health", "--url", httpsUrl, "--ca", pki.caCert, "--cert", pki.clientCert, "--key", pki.clientKey], { env });
    expect(withCert.stderr).toBe("");
    expect(withCert.code).toBe(EXIT.ok);
    const stranger = await runBuiltCli(["health", "--url", httpsUrl, "--ca", pki.caCert, "--cert", pki.strangerCert, "--key", pki.strangerKey], { env });
    expect(stranger.code).toBe(EXIT.unreachable);
    const without = await runBuiltCli(["health", "--url", httpsUrl, "--ca", pki.caCert], { env });
    expect(without.code).toBe(EXIT.unreachable);
    const halfPair = await runBuiltCli(["health", "--url", httpsUrl, "--cert", pki.clientCert], { env });
    expect(halfPair.code).toBe(EXIT.usage);
  });

  it("certs inspect runs node-mirth-certs: JSON report for a PEM, its exit 1 for a missing file", async () => {
    const inspected = await runBuiltCli(["certs", "inspect", pki.serverCert, "--json"], { env });
    expect(inspected.code).toBe(EXIT.ok);
    expect(inspected.json()).toMatchObject({ format: "pem", file: pki.serverCert });
    const globalJson = await runBuiltCli(["--json", "certs", "inspect", pki.caCert], { env });
    expect(globalJson.json()).toMatchObject({ format: "pem" });
    const missing = await runBuiltCli(["certs", "inspect", join(dir.path, "absent.pem")], { env });
    expect(missing.code).toBe(EXIT.failed);
    expect(missing.stderr).toContain("node-mirth-certs: ERR_CERTS_");
  });
});
