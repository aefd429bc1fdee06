import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createEgressPolicy, resetInsecureTlsForTests } from "@node-mirth/core";
import { createTempDir, describeWithPeers, makeTestPki, startVsftpd, type RunningVsftpd, type TempDir, type TestPki } from "@node-mirth/test-peers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectFtp, type FtpConnectOptions, type FtpSecurity } from "../ftp-file-client.js";
import { collectingDispatch, patternStream, reader, writeThrough } from "./harness.js";
import { schemeSuite } from "./scheme-suite.js";
import { startTcpProxy } from "./tcp-proxy.js";

describeWithPeers("FTP and FTPS against vsftpd", ["vsftpd", "openssl"], () => {
  let pki: TestPki;
  let pkiDir: TempDir;
  let ledgers: TempDir;
  const servers: Partial<Record<FtpSecurity, RunningVsftpd>> = {};
  let counter = 0;

  beforeAll(async () => {
    pkiDir = await createTempDir("remotefile-pki-");
    ledgers = await createTempDir("remotefile-ftp-ledgers-");
    pki = await makeTestPki(pkiDir.path);
    servers.none = await startVsftpd();
    servers.explicit = await startVsftpd({ tls: { certPath: pki.rsaServerCert, keyPath: pki.rsaServerKey } });
    servers.implicit = await startVsftpd({ tls: { certPath: pki.rsaServerCert, keyPath: pki.rsaServerKey, implicit: true } });
  });
  afterAll(async () => {
    for (const server of Object.values(servers)) await server?.stop();
    await pkiDir?.remove();
    await ledgers?.remove();
  });
  afterEach(() => {
    delete process.env.MIRTH_ALLOW_INSECURE_TLS;
    resetInsecureTlsForTests();
  });

  const options = (security: FtpSecurity, extra: Partial<FtpConnectOptions> = {}): FtpConnectOptions => ({
    host: "127.0.0.1",
    port: servers[security]!.port,
    security,
    connectTimeoutMs: 10_000,
    ...(security === "none" ? {} : { tls: { trustStorePath: pki.caCert } }),
    ...extra,
  });

  for (const security of ["explicit", "implicit", "none"] as const) {
    describe(`${security === "none" ? "plain FTP" : `FTPS ${security}`}`, () => {
      schemeSuite(() => ({
        connect: () => connectFtp(options(security)),
        ledgerDir: ledgers.path,
        freshDir: async () => {
          const dir = join(servers[security]!.filesDir, `case-${++counter}`);
          await mkdir(dir, { mode: 0o777 });
          return dir;
        },
      }));
    });
  }

  it("verifies the FTPS certificate: an unknown CA is refused", async () => {
    await expect(connectFtp(options("explicit", { tls: { trustStorePath: pki.strangerCaCert } }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_CONNECT_FAILED" });
    await expect(connectFtp(options("implicit", { tls: {} }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_CONNECT_FAILED" });
  });

  it("checks the server name against its certificate: a certificate for another host is refused", async () => {
    await using wrongHost = await startVsftpd({ tls: { certPath: pki.wrongHostCert, keyPath: pki.wrongHostKey } });
    await expect(connectFtp({ ...options("explicit"), port: wrongHost.port })).rejects.toMatchObject({ code: "ERR_REMOTEFILE_CONNECT_FAILED", message: expect.stringMatching(/altnames|Hostname|IP/i) });
  });

  it("checks [egress].allowed_remote at connect time", async () => {
    await expect(connectFtp(options("explicit", { egress: createEgressPolicy({ allowed_remote: ["10.0.0.1"] }) }))).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
    const client = await connectFtp(options("explicit", { egress: createEgressPolicy({ allowed_remote: [`127.0.0.1:${servers.explicit!.port}`] }) }));
    await client.close();
  });

  it("refuses credentials over plain FTP before connecting, unless MIRTH_ALLOW_INSECURE_TLS=1", async () => {
    await expect(connectFtp(options("none", { username: "lab", password: "secret" }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_CLEARTEXT_CREDENTIALS" });
    await expect(connectFtp(options("none", { password: "secret" }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_CLEARTEXT_CREDENTIALS" });
    process.env.MIRTH_ALLOW_INSECURE_TLS = "1";
    resetInsecureTlsForTests();
    const warnings: string[] = [];
    // vsftpd here takes anonymous logins (no_anon_password): the password is sent, with a warning.
    const client = await connectFtp(options("none", { username: "anonymous", password: "secret", onWarning: (w) => warnings.push(w.code) }));
    await client.close();
    expect(warnings).toEqual(["WARN_POLICY_INSECURE_TLS"]);
  });

  it("a server that disappears mid-transfer leaves the file unacknowledged, and it is read again", { timeout: 120_000 }, async () => {
    const dir = join(servers.none!.filesDir, `drop-${++counter}`);
    await mkdir(dir, { mode: 0o777 });
    const direct = await connectFtp(options("none"));
    try {
      await writeThrough(direct, join(dir, "big.bin"), patternStream(32 * 1024 * 1024, 5));
    } finally {
      await direct.close();
    }
    // Only the control connection is relayed; cutting it aborts the transfer in flight.
    await using proxy = await startTcpProxy({ host: "127.0.0.1", port: servers.none!.port });
    const viaProxy = () => connectFtp(options("none", { port: proxy.port }));
    const ledgerPath = join(ledgers.path, `drop-${counter}.sqlite`);
    const got = collectingDispatch();
    const dropping = reader({ connect: viaProxy, directory: dir, dispatch: got.dispatch, ledgerPath, content: "binary" });
    proxy.cutAfterClientSends(/^RETR /m, 30);
    try {
      const first = await dropping.poll();
      expect(first.retry).toEqual([join(dir, "big.bin")]);
      expect(got.received).toEqual([]);
      // The same reader connects again at its next poll.
      const second = await dropping.poll();
      expect(second.processed).toEqual([join(dir, "big.bin")]);
    } finally {
      await dropping.stop();
    }
    expect((got.received[0]!.content as Buffer).length).toBe(32 * 1024 * 1024);
  });
});
