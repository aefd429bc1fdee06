import { once } from "node:events";
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { connect as tlsConnect, createServer as createTlsServer } from "node:tls";
import { createEngine, MemoryStore } from "@node-mirth/core";
import { createTempDir, describeWithPeers, freePort, runCommand, type TempDir, makeTestPki, type TestPki } from "@node-mirth/test-peers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { mllp } from "../mllp-connector.js";
import { MllpListener, type MllpListenerOptions } from "../mllp-listener.js";
import { MllpSender } from "../mllp-sender.js";
import { ackHandler, collectingLog, mllpFrame } from "./helpers.js";
import { adt } from "./adt-message.js";

describeWithPeers("MLLP over TLS and mTLS (openssl s_client, test CA made by openssl)", ["openssl"], (peers) => {
  const openssl = peers.bin.openssl!;
  let dir: TempDir;
  let pki: TestPki;

  beforeAll(async () => {
    dir = await createTempDir("mllp-tls-pki-");
    pki = await makeTestPki(dir.path, openssl);
  });
  afterAll(() => dir?.remove());

  const serverTls = (mtls: boolean): MllpListenerOptions["tls"] => ({
    enabled: true,
    keyStorePath: pki.serverKey,
    certStorePath: pki.serverCert,
    ...(mtls ? { trustStorePath: pki.caCert, requireClientCert: true } : {}),
  });

  /** Sends one MLLP message through `openssl s_client`; the listener's idle timeout ends the session. */
  const sClient = (port: number, extra: string[]) =>
    runCommand(
      openssl,
      ["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", pki.caCert, "-verify_return_error", "-quiet", ...extra],
      { input: mllpFrame(adt("SCLIENT1")), timeoutMs: 20_000 },
    );

  it("MLLPS: our sender and listener, with hostname verification against the test CA", async () => {
    await using listener = new MllpListener({ onMessage: ackHandler, tls: serverTls(false) });
    const { port } = await listener.start();
    expect(listener.transport).toBe("MLLPS");
    await using sender = new MllpSender({ host: "localhost", port, tls: { enabled: true, trustStorePath: pki.caCert } });
    expect(sender.transport).toBe("MLLPS");
    expect(await sender.send(adt("T1"))).toMatchObject({ outcome: "accepted", ackCode: "AA" });

    await using wrongName = new MllpSender({ host: "127.0.0.1", port, tls: { enabled: true, trustStorePath: pki.caCert, sniServerName: "ris.other.example" } });
    await expect(wrongName.send(adt("T2"))).rejects.toMatchObject({ code: "ERR_MLLP_CONNECT_FAILED", message: expect.stringContaining("ERR_TLS_CERT_ALTNAME_INVALID") });
    await using untrusting = new MllpSender({ host: "localhost", port, tls: { enabled: true, trustStorePath: pki.strangerCaCert } });
    await expect(untrusting.send(adt("T3"))).rejects.toMatchObject({ code: "ERR_MLLP_CONNECT_FAILED" });
  });

  it("the sender sends SNI: the configured host name, or sniServerName", async () => {
    const names: string[] = [];
    const server = createTlsServer({ key: await readFile(pki.serverKey), cert: await readFile(pki.serverCert) }, (socket) => {
      names.push(String((socket as unknown as { servername: string | false }).servername));
      socket.destroy();
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const cases = [
        { host: "localhost", tls: {} },
        { host: "127.0.0.1", tls: { sniServerName: "localhost" } },
        { host: "127.0.0.1", tls: {} }, // no SNI for an IP address
      ];
      for (const { host, tls } of cases) {
        await using sender = new MllpSender({ host, port, tls: { enabled: true, trustStorePath: pki.caCert, ...tls } });
        await expect(sender.send(adt("SNI"))).rejects.toMatchObject({ code: "ERR_MLLP_CONNECTION_CLOSED" });
      }
      expect(names).toEqual(["localhost", "localhost", "false"]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("RAW over TLS is TCP+TLS", async () => {
    await using listener = new MllpListener({ onMessage: (m) => Promise.resolve(`echo:${m.toString()}`), framing: { mode: "FRAME", startBytes: "02", endBytes: "03" }, tls: serverTls(false) });
    const { port } = await listener.start();
    expect(listener.transport).toBe("TCP+TLS");
    await using sender = new MllpSender({ host: "localhost", port, framing: { mode: "FRAME", startBytes: "02", endBytes: "03" }, validateAck: false, tls: { enabled: true, trustStorePath: pki.caCert } });
    expect((await sender.send("hello")).response?.toString()).toBe("echo:hello");
  });

  it("the mllp plugin in the engine: MLLPS source and mTLS destination from connector properties", async () => {
    const delivered: string[] = [];
    await using downstream = new MllpListener({
      onMessage: (m, info) => {
        delivered.push(`${info.peerCertificateSubject ?? ""}:${info.transport}`);
        return ackHandler(m);
      },
      tls: serverTls(true),
    });
    const { port: downstreamPort } = await downstream.start();
    const port = await freePort("127.0.0.1");
    const store = new MemoryStore();
    const engine = createEngine({ store, plugins: [mllp()], env: { CA: pki.caCert } });
    try {
      await engine.deploy({
        id: "tls",
        name: "TLS in and out",
        source: { type: "mllp", properties: { port: String(port), tls: { ...serverTls(false), enabled: "true" } } },
        destinations: [
          {
            id: "out",
            name: "Out",
            connector: {
              type: "mllp",
              properties: { host: "localhost", port: downstreamPort, tls: { enabled: true, trustStorePath: "${CA}", keyStorePath: pki.clientKey, certStorePath: pki.clientCert } },
            },
          },
        ],
      });
      await using sender = new MllpSender({ host: "localhost", port, tls: { enabled: true, trustStorePath: pki.caCert } });
      expect((await sender.send(adt("ENG1"))).outcome).toBe("accepted");
      await engine.idle("tls");
      expect(delivered).toEqual(["node-mirth-test-client:MLLPS"]);
      const [stored] = await engine.messages.search({ channelId: "tls", statuses: ["SENT"] });
      expect(JSON.stringify(await engine.messages.get("tls", stored!.messageId))).toContain("MLLPS");
    } finally {
      await engine.close();
      await store.close();
    }
  });

  it("openssl s_client gets an ACK over TLS", async () => {
    await using listener = new MllpListener({ onMessage: ackHandler, tls: serverTls(false), idleTimeoutMs: 1_000 });
    const { port } = await listener.start();
    const result = await sClient(port, []);
    expect(result.stdout.toString("latin1")).toContain("MSA|AA|SCLIENT1");
  });

  it("mTLS: s_client with the client certificate is answered; without one or with a stranger's it is refused", async () => {
    const { log, lines } = collectingLog();
    const handled: string[] = [];
    await using listener = new MllpListener({
      onMessage: (m, info) => {
        handled.push(info.peerCertificateSubject ?? "");
        return ackHandler(m);
      },
      tls: serverTls(true),
      idleTimeoutMs: 1_000,
      log,
    });
    const { port } = await listener.start();
    const withCert = await sClient(port, ["-cert", pki.clientCert, "-key", pki.clientKey]);
    expect(withCert.stdout.toString("latin1")).toContain("MSA|AA|SCLIENT1");
    expect(handled).toEqual(["node-mirth-test-client"]);

    const noCert = await sClient(port, []);
    const stranger = await sClient(port, ["-cert", pki.strangerCert, "-key", pki.strangerKey]);
    for (const refused of [noCert, stranger]) expect(refused.stdout.toString("latin1")).not.toContain("MSA|");
    expect(handled).toHaveLength(1);
    expect(lines.filter((line) => line.includes("TLS handshake from 127.0.0.1 refused"))).toHaveLength(2);
    expect(lines.some((line) => line.includes("ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE"))).toBe(true);

    await using ourClient = new MllpSender({ host: "localhost", port, tls: { enabled: true, trustStorePath: pki.caCert, keyStorePath: pki.clientKey, certStorePath: pki.clientCert } });
    expect((await ourClient.send(adt("M1"))).outcome).toBe("accepted");
    await using noClientCert = new MllpSender({ host: "localhost", port, tls: { enabled: true, trustStorePath: pki.caCert } });
    await expect(noClientCert.send(adt("M2"))).rejects.toMatchObject({ code: expect.stringMatching(/ERR_MLLP_CONNECT_FAILED|ERR_MLLP_CONNECTION_CLOSED/) });
  });

  it("refuses a TLS 1.1 client", async () => {
    const { log, waitFor } = collectingLog();
    await using listener = new MllpListener({ onMessage: ackHandler, tls: serverTls(false), idleTimeoutMs: 1_000, log });
    const { port } = await listener.start();
    const result = await sClient(port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    expect(result.code).not.toBe(0);
    expect(result.stdout.toString("latin1")).not.toContain("MSA|");
    expect(await waitFor(/TLS handshake from .* refused/)).toMatch(/protocol/i);
  });

  it("binds a non-loopback address with TLS; stop/start and reloadTls pick up a rotated certificate", async () => {
    const key = join(dir.path, "current.key");
    const cert = join(dir.path, "current.crt");
    await copyFile(pki.serverKey, key);
    await copyFile(pki.serverCert, cert);
    const listener = new MllpListener({ onMessage: ackHandler, host: "0.0.0.0", tls: { enabled: true, keyStorePath: key, certStorePath: cert } });
    const ca = await readFile(pki.caCert);
    const fingerprint = async (port: number) => {
      const socket = tlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" });
      try {
        await once(socket, "secureConnect");
        return socket.getPeerCertificate().fingerprint256;
      } finally {
        socket.destroy();
      }
    };
    try {
      const first = await fingerprint((await listener.start()).port);
      await copyFile(pki.rotatedKey, key);
      await copyFile(pki.rotatedCert, cert);
      listener.reloadTls();
      const reloaded = await fingerprint(listener.address().port);
      expect(reloaded).not.toBe(first);
      await listener.stop();
      await copyFile(pki.serverKey, key);
      await copyFile(pki.serverCert, cert);
      expect(await fingerprint((await listener.start()).port)).toBe(first);
    } finally {
      await listener.stop();
    }
  });
});
