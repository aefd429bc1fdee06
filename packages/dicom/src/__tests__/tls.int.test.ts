import { mkdir, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "node:tls";
import { createTempDir, describeWithPeers, makeTestPki, runCommand, startPeer, type TempDir, type TestPki } from "@node-mirth/test-peers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DicomListener, type ReceivedInstance } from "../dicom-listener.js";
import { DicomSender } from "../dicom-sender.js";
import { createDicomClientTls, createDicomServerTls, parseDicomTlsProperties, tripleDesAvailable } from "../dicom-tls.js";
import { datasetOf, makeInstance } from "./instances.js";

describeWithPeers("DICOM TLS with dcmtk (storescu +tls, storescp +tls) and the test CA", ["storescu", "storescp", "dump2dcm", "openssl"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  let file: string;

  beforeAll(async () => {
    dir = await createTempDir("dicom-tls-");
    pki = await makeTestPki(dir.path, peers.bin.openssl);
    file = await makeInstance({ dir: dir.path, dump2dcm: peers.bin.dump2dcm!, index: 0 });
  });
  afterAll(() => dir?.remove());

  const serverProps = (extra: Record<string, unknown> = {}) =>
    parseDicomTlsProperties({ tls: "bcp195", keyStore: pki.serverKey, certStore: pki.serverCert, trustStore: pki.caCert, ...extra });

  const tlsListener = (tls: ReturnType<typeof createDicomServerTls>) => {
    const received: ReceivedInstance[] = [];
    const log: string[] = [];
    const listener = new DicomListener({
      aeTitle: "NMIRTH",
      port: 0,
      spoolDirectory: join(dir.path, "spool"),
      ...(tls === undefined ? {} : { tls }),
      log: (level, text) => log.push(`${level}: ${text}`),
      onInstance: (instance) => {
        received.push(instance);
        return Promise.resolve({ status: 0 });
      },
    });
    return { listener, received, log };
  };

  const storescu = (port: number, tlsArgs: string[]) =>
    runCommand(peers.bin.storescu!, [...tlsArgs, "+cf", pki.caCert, "-aec", "NMIRTH", "localhost", String(port), file], { timeoutMs: 30_000 });

  it("bcp195: storescu +tls with a client certificate stores an instance; its dataset arrives intact", async () => {
    const { listener, received } = tlsListener(createDicomServerTls(serverProps()));
    await using _ = listener;
    const { port } = await listener.start();
    const result = await storescu(port, ["+tls", pki.clientKey, pki.clientCert]);
    expect(result.code, result.stderr.toString()).toBe(0);
    expect(received).toHaveLength(1);
    expect((await datasetOf(received[0]!.path)).dataset.equals((await datasetOf(file)).dataset)).toBe(true);
  });

  it("bcp195: a client without a certificate is refused while client auth is required (the default)", async () => {
    const { listener, received, log } = tlsListener(createDicomServerTls(serverProps()));
    await using _ = listener;
    const { port } = await listener.start();
    const result = await storescu(port, ["+tla"]);
    expect(result.code).not.toBe(0);
    expect(received).toHaveLength(0);
    expect(log.join("\n")).toMatch(/TLS handshake from .* failed/);
  });

  it("noClientAuth: true lets an anonymous TLS client in", async () => {
    const { listener, received } = tlsListener(createDicomServerTls(serverProps({ noClientAuth: true })));
    await using _ = listener;
    const { port } = await listener.start();
    const result = await storescu(port, ["+tla"]);
    expect(result.code, result.stderr.toString()).toBe(0);
    expect(received).toHaveLength(1);
  });

  it("aes: storescu's default TLS profile negotiates an AES-GCM suite with our listener", async () => {
    const { listener, received } = tlsListener(createDicomServerTls(serverProps({ tls: "aes" })));
    await using _ = listener;
    const { port } = await listener.start();
    const result = await storescu(port, ["+tls", pki.clientKey, pki.clientCert]);
    expect(result.code, result.stderr.toString()).toBe(0);
    expect(received).toHaveLength(1);
  });

  it("our sender (bcp195, client certificate) stores to storescp +tls requiring peer certificates; dataset byte-identical", async () => {
    const out = join(dir.path, "pacs-tls");
    await mkdir(out);
    await using storescp = await startPeer({
      command: "storescp",
      args: ({ port }) => ["+tls", pki.serverKey, pki.serverCert, "+cf", pki.caCert, "-rc", "-aet", "PACS", "-od", out, String(port)],
      ready: { kind: "tcp" },
    });
    const tls = createDicomClientTls(parseDicomTlsProperties({ tls: "bcp195", keyStore: pki.clientKey, certStore: pki.clientCert, trustStore: pki.caCert }));
    await using sender = new DicomSender({ host: "localhost", port: storescp.port, calledAeTitle: "PACS", callingAeTitle: "NMIRTH", ...(tls === undefined ? {} : { tls }) });
    expect(await sender.store(await readFile(file))).toMatchObject({ status: 0, outcome: "success" });
    await sender.close();
    const sent = await datasetOf(file);
    expect(await readdir(out)).toEqual([`CT.${sent.sopInstanceUid}`]);
    expect((await datasetOf(join(out, `CT.${sent.sopInstanceUid}`))).dataset.equals(sent.dataset)).toBe(true);
  });

  it("our sender refuses a server whose certificate does not name the configured host", async () => {
    await using storescp = await startPeer({
      command: "storescp",
      args: ({ port }) => ["+tls", pki.wrongHostKey, pki.wrongHostCert, "+cf", pki.caCert, "-aet", "PACS", "-od", dir.path, String(port)],
      ready: { kind: "tcp" },
    });
    const tls = createDicomClientTls(parseDicomTlsProperties({ tls: "bcp195", keyStore: pki.clientKey, certStore: pki.clientCert, trustStore: pki.caCert }));
    await using sender = new DicomSender({ host: "localhost", port: storescp.port, calledAeTitle: "PACS", callingAeTitle: "NMIRTH", ...(tls === undefined ? {} : { tls }) });
    await expect(sender.store(await readFile(file))).rejects.toMatchObject({ code: "ERR_DICOM_CONNECT_FAILED", message: expect.stringMatching(/altnames|localhost/i) });
  });

  it("3des is refused without MIRTH_ALLOW_INSECURE_TLS=1, for the listener and the sender", () => {
    const props = parseDicomTlsProperties({ tls: "3des", keyStore: pki.rsaServerKey, certStore: pki.rsaServerCert, trustStore: pki.caCert });
    expect(() => createDicomServerTls(props, { env: {} })).toThrow(expect.objectContaining({ code: "ERR_POLICY_INSECURE_TLS" }));
    expect(() => createDicomClientTls(props, { env: {} })).toThrow(expect.objectContaining({ code: "ERR_POLICY_INSECURE_TLS" }));
  });

  it("3des with MIRTH_ALLOW_INSECURE_TLS=1: warned about and the handshake uses TLS_RSA_WITH_3DES_EDE_CBC_SHA, or refused clearly where OpenSSL has no 3DES", async () => {
    const warnings: string[] = [];
    const env = { MIRTH_ALLOW_INSECURE_TLS: "1" };
    const onWarning = (warning: { message: string }) => warnings.push(warning.message);
    const options = { env, onWarning, certs: { env, onWarning } };
    const props = parseDicomTlsProperties({ tls: "3des", keyStore: pki.rsaServerKey, certStore: pki.rsaServerCert, trustStore: pki.caCert, noClientAuth: true });
    if (!tripleDesAvailable()) {
      expect(() => createDicomServerTls(props, options)).toThrow(expect.objectContaining({ code: "ERR_DICOM_INVALID_OPTIONS", message: expect.stringContaining("no 3DES suites") }));
      return;
    }
    const { listener, received } = tlsListener(createDicomServerTls(props, options));
    await using _ = listener;
    const { port } = await listener.start();
    expect(warnings.join("\n")).toMatch(/3des/i);
    const clientTls = createDicomClientTls(parseDicomTlsProperties({ tls: "3des", trustStore: pki.caCert }), options);
    const cipher = await new Promise<string>((resolve, reject) => {
      const socket = connect({ ...clientTls, host: "127.0.0.1", servername: "localhost", port }, () => {
        resolve(socket.getCipher().standardName);
        socket.destroy();
      });
      socket.once("error", reject);
    });
    expect(cipher).toBe("TLS_RSA_WITH_3DES_EDE_CBC_SHA");
    await using sender = new DicomSender({ host: "localhost", port, calledAeTitle: "NMIRTH", callingAeTitle: "NMIRTH", ...(clientTls === undefined ? {} : { tls: clientTls }) });
    expect(await sender.store(await readFile(file))).toMatchObject({ outcome: "success" });
    expect(received).toHaveLength(1);
  });
});

describeWithPeers("DICOM TLS key material from keystores (PKCS12 by openssl, JKS by keytool)", ["storescu", "storescp", "dump2dcm", "openssl", "keytool"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  let file: string;
  const password = "changeit";

  beforeAll(async () => {
    dir = await createTempDir("dicom-keystores-");
    pki = await makeTestPki(dir.path, peers.bin.openssl);
    file = await makeInstance({ dir: dir.path, dump2dcm: peers.bin.dump2dcm!, index: 0 });
    const ok = async (command: string, args: string[]) => {
      const result = await runCommand(command, args, { timeoutMs: 60_000 });
      expect(result.code, result.stderr.toString()).toBe(0);
    };
    await ok(peers.bin.openssl!, ["pkcs12", "-export", "-inkey", pki.serverKey, "-in", pki.serverCert, "-certfile", pki.caCert, "-out", join(dir.path, "server.p12"), "-passout", `pass:${password}`]);
    await ok(peers.bin.openssl!, ["pkcs12", "-export", "-inkey", pki.clientKey, "-in", pki.clientCert, "-certfile", pki.caCert, "-out", join(dir.path, "client.p12"), "-passout", `pass:${password}`]);
    await ok(peers.bin.keytool!, ["-importcert", "-noprompt", "-alias", "ca", "-file", pki.caCert, "-keystore", join(dir.path, "trust.jks"), "-storetype", "JKS", "-storepass", password]);
  }, 120_000);
  afterAll(() => dir?.remove());

  it("a listener with a PKCS12 keyStore and a JKS trustStore takes storescu +tls with a client certificate", async () => {
    const tls = createDicomServerTls(
      parseDicomTlsProperties({ tls: "bcp195", keyStore: join(dir.path, "server.p12"), keyStorePW: password, trustStore: join(dir.path, "trust.jks"), trustStorePW: password }),
    );
    const received: string[] = [];
    await using listener = new DicomListener({
      aeTitle: "NMIRTH",
      port: 0,
      spoolDirectory: join(dir.path, "spool"),
      ...(tls === undefined ? {} : { tls }),
      onInstance: (instance) => {
        received.push(instance.sopInstanceUid);
        return Promise.resolve({ status: 0 });
      },
    });
    const { port } = await listener.start();
    const result = await runCommand(peers.bin.storescu!, ["+tls", pki.clientKey, pki.clientCert, "+cf", pki.caCert, "-aec", "NMIRTH", "localhost", String(port), file], { timeoutMs: 30_000 });
    expect(result.code, result.stderr.toString()).toBe(0);
    expect(received).toEqual([(await datasetOf(file)).sopInstanceUid]);
  });

  it("a sender with a PKCS12 client keyStore and a JKS trustStore stores to storescp +tls requiring its certificate", async () => {
    const out = join(dir.path, "pacs");
    await mkdir(out);
    await using storescp = await startPeer({
      command: "storescp",
      args: ({ port }) => ["+tls", pki.serverKey, pki.serverCert, "+cf", pki.caCert, "-rc", "-aet", "PACS", "-od", out, String(port)],
      ready: { kind: "tcp" },
    });
    const tls = createDicomClientTls(
      parseDicomTlsProperties({ tls: "bcp195", keyStore: join(dir.path, "client.p12"), keyStorePW: password, trustStore: join(dir.path, "trust.jks"), trustStorePW: password }),
    );
    await using sender = new DicomSender({ host: "localhost", port: storescp.port, calledAeTitle: "PACS", callingAeTitle: "NMIRTH", ...(tls === undefined ? {} : { tls }) });
    expect(await sender.store(await readFile(file))).toMatchObject({ outcome: "success" });
    await sender.close();
    expect(await readdir(out)).toHaveLength(1);
  });
});
