import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createEgressPolicy, resetInsecureTlsForTests } from "@node-mirth/core";
import { createTempDir, describeWithPeers, startSshd, type RunningSshd, type TempDir } from "@node-mirth/test-peers";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { sha256Fingerprint } from "../known-hosts.js";
import { connectSftp, type SftpConnectOptions } from "../sftp-file-client.js";
import { FileWriter } from "../file-writer.js";
import { collectingDispatch, outbound, patternStream, reader, writeThrough } from "./harness.js";
import { schemeSuite } from "./scheme-suite.js";
import { startTcpProxy } from "./tcp-proxy.js";

describeWithPeers("SFTP against OpenSSH sshd", ["sshd", "ssh-keygen"], () => {
  let sshd: RunningSshd;
  let temp: TempDir;
  let counter = 0;

  beforeAll(async () => {
    sshd = await startSshd();
    temp = await createTempDir("remotefile-sftp-");
  });
  afterAll(async () => {
    await sshd?.stop();
    await temp?.remove();
  });
  afterEach(() => {
    delete process.env.MIRTH_ALLOW_INSECURE_TLS;
    resetInsecureTlsForTests();
  });

  const options = (extra: Partial<SftpConnectOptions> = {}): SftpConnectOptions => ({
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyPath: sshd.userKeyPath,
    knownHostsPath: sshd.knownHostsPath,
    connectTimeoutMs: 10_000,
    ...extra,
  });

  schemeSuite(() => ({
    connect: () => connectSftp(options()),
    ledgerDir: temp.path,
    freshDir: async () => {
      const dir = join(temp.path, `case-${++counter}`);
      await mkdir(dir);
      return dir;
    },
  }));

  it("logs in with a passphrase-protected key and a pinned SHA-256 host key, through the egress check", async () => {
    const blob = Buffer.from(sshd.hostPublicKey.split(" ")[1]!, "base64");
    const egress = createEgressPolicy({ allowed_remote: [`127.0.0.1:${sshd.port}`] });
    const client = await connectSftp(options({ privateKeyPath: sshd.encryptedUserKeyPath, passphrase: sshd.userKeyPassphrase, knownHostsPath: undefined, hostKeySha256: sha256Fingerprint(blob), egress }));
    try {
      expect((await client.stat(temp.path))?.type).toBe("directory");
    } finally {
      await client.close();
    }
    await expect(connectSftp(options({ egress: createEgressPolicy({ allowed_remote: ["10.0.0.1"] }) }))).rejects.toMatchObject({ code: "ERR_POLICY_EGRESS_DENIED" });
  });

  it("a writer whose connection was closed by the server reconnects for the next message", async () => {
    await using proxy = await startTcpProxy({ host: sshd.host, port: sshd.port });
    const known = join(temp.path, "writer_known_hosts");
    await writeFile(known, `[127.0.0.1]:${proxy.port} ${sshd.hostPublicKey}\n`);
    const dir = join(temp.path, `reconnect-${++counter}`);
    const writer = new FileWriter({ connect: () => connectSftp(options({ port: proxy.port, knownHostsPath: known })), location: "sftp://", directory: dir, fileName: "${message.messageId}.txt" });
    try {
      await writer.write(outbound("one", {}, 1));
      proxy.cut();
      // Either the writer already saw the session close (connected = false) and reconnects, or
      // this write fails retryably on the dead session, as the engine would see it, and the
      // retry reconnects.
      const attempt = await writer.write(outbound("two", {}, 2)).catch((error: unknown) => error);
      if (attempt instanceof Error) {
        expect(attempt).toMatchObject({ code: "ERR_REMOTEFILE_TRANSFER_FAILED" });
        await writer.write(outbound("two", {}, 2));
      }
    } finally {
      await writer.close();
    }
    expect(await readFile(join(dir, "1.txt"), "utf8")).toBe("one");
    expect(await readFile(join(dir, "2.txt"), "utf8")).toBe("two");
  });

  it("refuses a mismatched host key, always", async () => {
    const wrong = join(temp.path, "wrong_known_hosts");
    await writeFile(wrong, `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvv4bpRXWhwWjA5FWZSVSwnz4cs4ZhDNFtPGDwFJjSS\n`);
    process.env.MIRTH_ALLOW_INSECURE_TLS = "1";
    resetInsecureTlsForTests();
    await expect(connectSftp(options({ knownHostsPath: wrong }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_HOST_KEY_MISMATCH" });
    await expect(connectSftp(options({ knownHostsPath: undefined, hostKeySha256: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_HOST_KEY_MISMATCH" });
  });

  it("refuses an unknown host key unless MIRTH_ALLOW_INSECURE_TLS=1, which warns", async () => {
    const empty = join(temp.path, "empty_known_hosts");
    await writeFile(empty, "# nobody\n");
    await expect(connectSftp(options({ knownHostsPath: empty }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_HOST_KEY_UNKNOWN" });
    await expect(connectSftp(options({ knownHostsPath: undefined }))).rejects.toMatchObject({ code: "ERR_REMOTEFILE_HOST_KEY_UNKNOWN" });
    process.env.MIRTH_ALLOW_INSECURE_TLS = "1";
    resetInsecureTlsForTests();
    const warnings: string[] = [];
    const client = await connectSftp(options({ knownHostsPath: empty, onWarning: (w) => warnings.push(w.code) }));
    await client.close();
    expect(warnings).toEqual(["WARN_POLICY_INSECURE_TLS"]);
  });

  it("refuses a wrong key as a connect failure", async () => {
    await expect(connectSftp(options({ privateKeyPath: sshd.encryptedUserKeyPath, passphrase: "wrong" }))).rejects.toMatchObject({ code: expect.stringMatching(/ERR_REMOTEFILE_(CONNECT|TRANSFER)_FAILED/) });
  });

  it("a server that disappears mid-transfer leaves the file unacknowledged, and it is read again", { timeout: 120_000 }, async () => {
    const dir = join(temp.path, `drop-${++counter}`);
    await mkdir(dir);
    const local = await connectSftp(options());
    try {
      await writeThrough(local, join(dir, "big.bin"), patternStream(32 * 1024 * 1024, 3));
    } finally {
      await local.close();
    }
    await using proxy = await startTcpProxy({ host: sshd.host, port: sshd.port });
    const known = join(temp.path, "proxy_known_hosts");
    await writeFile(known, `[127.0.0.1]:${proxy.port} ${sshd.hostPublicKey}\n`);
    const viaProxy = () => connectSftp(options({ port: proxy.port, knownHostsPath: known }));
    const ledgerPath = join(temp.path, `drop-${counter}.sqlite`);
    const got = collectingDispatch();
    const dropping = reader({ connect: viaProxy, directory: dir, dispatch: got.dispatch, ledgerPath, content: "binary" });
    const watcher = setInterval(() => {
      if (proxy.downstreamBytes() > 4 * 1024 * 1024) proxy.cut();
    }, 5);
    try {
      const first = await dropping.poll().finally(() => clearInterval(watcher));
      expect(first.retry).toEqual([join(dir, "big.bin")]);
      expect(got.received).toEqual([]);
      expect((await readFile(join(dir, "big.bin"))).length).toBe(32 * 1024 * 1024);
      // The same reader connects again at its next poll.
      const second = await dropping.poll();
      expect(second.processed).toEqual([join(dir, "big.bin")]);
    } finally {
      await dropping.stop();
    }
    expect((got.received[0]!.content as Buffer).length).toBe(32 * 1024 * 1024);
  });
});
