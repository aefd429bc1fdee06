import { createTempDir, describeWithPeers, makeTestPki, runCommand, TS_SOURCE_HOOK, type TempDir, type TestPki } from "@node-mirth/test-peers";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startTestServer } from "../../__tests__/start-test-server.js";

const MAIN = join(import.meta.dirname, "..", "..", "main.ts");

interface HttpsAnswer {
  status?: number;
  hsts?: string;
  error?: string;
}

/** One GET over HTTPS with the test CA trusted (and a client certificate when given). */
function httpsGet(url: string, tls: { ca: string; cert?: string; key?: string }): Promise<HttpsAnswer> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        ca: readFileSync(tls.ca),
        ...(tls.cert === undefined ? {} : { cert: readFileSync(tls.cert), key: readFileSync(tls.key!) }),
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode, hsts: res.headers["strict-transport-security"] }));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}

describeWithPeers("the API over HTTPS (TLS_CERT + TLS_KEY)", ["openssl"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  let emptyOpensslConf: string;

  beforeAll(async () => {
    dir = await createTempDir("node-mirth-server-https-");
    pki = await makeTestPki(dir.path, peers.bin.openssl);
    // Debian's openssl.cnf raises s_client's own floor to TLS 1.2; without it a -tls1_1
    // attempt really reaches the server, which must be the one to refuse it.
    emptyOpensslConf = join(dir.path, "empty-openssl.cnf");
    writeFileSync(emptyOpensslConf, "");
  });
  afterAll(async () => {
    await dir?.remove();
  });

  async function sClient(port: number, args: string[]) {
    const result = await runCommand(
      peers.bin.openssl!,
      ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost", "-CAfile", pki.caCert, ...args],
      { input: "", env: { OPENSSL_CONF: emptyOpensslConf }, timeoutMs: 20_000 },
    );
    return { code: result.code, output: result.stdout.toString() + result.stderr.toString() };
  }

  const tlsEnv = () => ({ TLS_CERT: pki.serverCert, TLS_KEY: pki.serverKey });

  it("negotiates TLS 1.3 and 1.2 with a verified certificate and refuses TLS 1.1 (openssl s_client)", async () => {
    await using server = await startTestServer({ env: tlsEnv() });
    const port = Number(new URL(server.httpsUrl!).port);
    const tls13 = await sClient(port, ["-tls1_3"]);
    expect(tls13.output).toMatch(/New, TLSv1\.3, Cipher is TLS_/);
    expect(tls13.output).toContain("Verify return code: 0 (ok)");
    const tls12 = await sClient(port, ["-tls1_2"]);
    expect(tls12.output).toMatch(/New, TLSv1\.2, Cipher is ECDHE-/);
    const tls11 = await sClient(port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    expect(tls11.code).not.toBe(0);
    // The server answers a TLS 1.1 hello with a protocol_version alert: no cipher agreed.
    expect(tls11.output).toMatch(/alert protocol version/);
    expect(tls11.output).toMatch(/Cipher\s*:\s*0000/);
  });

  it("raises the floor to TLS 1.3 with tls_min_version, and refuses to start below 1.2 (exit 2)", async () => {
    await using server = await startTestServer({ env: tlsEnv(), config: { api: { tls_min_version: "TLSv1.3" } } });
    const port = Number(new URL(server.httpsUrl!).port);
    expect((await sClient(port, ["-tls1_3"])).output).toMatch(/New, TLSv1\.3, Cipher is TLS_/);
    expect((await sClient(port, ["-tls1_2"])).output).toMatch(/alert protocol version/);

    const config = join(dir.path, "weak.toml");
    writeFileSync(config, '[api]\ntls_min_version = "TLSv1.1"\n');
    const refused = await runCommand(
      process.execPath,
      ["--import", TS_SOURCE_HOOK, MAIN, "serve", "--config", config],
      { env: { ...tlsEnv(), PORT: "0", HTTPS_PORT: "0", MIRTH_DATA_DIR: join(dir.path, "weak-data") }, timeoutMs: 30_000 },
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr.toString()).toContain("below the security floor: minVersion: TLSv1.1");
  });

  it("keeps only the health probes on the plain port and sends HSTS over HTTPS", async () => {
    await using server = await startTestServer({ env: tlsEnv() });
    expect((await fetch(`${server.url}/api/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    const plainApi = await fetch(`${server.url}/api/channels`);
    expect(plainApi.status).toBe(421);
    expect(await plainApi.json()).toMatchObject({ code: "ERR_API_HTTPS_REQUIRED" });
    expect(plainApi.headers.get("strict-transport-security")).toBeNull();
    const secure = await httpsGet(`${server.httpsUrl!}/api/health/live`, { ca: pki.caCert });
    expect(secure).toMatchObject({ status: 200, hsts: "max-age=31536000; includeSubDomains" });
    // Over HTTPS the API itself answers (and wants a session).
    expect(await httpsGet(`${server.httpsUrl!}/api/channels`, { ca: pki.caCert })).toMatchObject({ status: 401 });
  });

  it("requires a client certificate issued by tls_client_ca_file (mTLS)", async () => {
    await using server = await startTestServer({ env: tlsEnv(), config: { api: { tls_client_ca_file: pki.caCert } } });
    const url = `${server.httpsUrl!}/api/health/live`;
    expect(await httpsGet(url, { ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey })).toMatchObject({ status: 200 });
    expect((await httpsGet(url, { ca: pki.caCert })).status).toBeUndefined();
    const stranger = await httpsGet(url, { ca: pki.caCert, cert: pki.strangerCert, key: pki.strangerKey });
    expect(stranger.status).toBeUndefined();
    expect(stranger.error).toBeDefined();
  });

  it("starts off loopback with its own TLS (bind guard allows HOST=0.0.0.0 with a certificate)", async () => {
    await using server = await startTestServer({ env: { ...tlsEnv(), HOST: "0.0.0.0" } });
    expect(server.logs.some((line) => line.includes('"bind":"tls"'))).toBe(true);
    expect(await httpsGet(`${server.httpsUrl!}/api/health/live`, { ca: pki.caCert })).toMatchObject({ status: 200 });
  });
});
