import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithPeers } from "./peer-requirements.js";
import { makeTestPki, type TestPki } from "./test-pki.js";
import { createTempDir, type TempDir } from "./temp-dir.js";

describeWithPeers("makeTestPki", ["openssl"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  const cert = async (path: string) => new X509Certificate(await readFile(path));
  beforeAll(async () => {
    dir = await createTempDir("test-pki-");
    pki = await makeTestPki(dir.path, peers.bin.openssl);
  });
  afterAll(() => dir.remove());

  it("issues the local leaves from the CA, for localhost and loopback", async () => {
    const ca = await cert(pki.caCert);
    for (const path of [pki.serverCert, pki.rotatedCert, pki.rsaServerCert, pki.clientCert]) {
      const leaf = await cert(path);
      expect(leaf.verify(ca.publicKey)).toBe(true);
    }
    const server = await cert(pki.serverCert);
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
  });

  it("makes the RSA server key RSA and the wrong-host leaf valid only for wrong.example", async () => {
    expect(createPrivateKey(await readFile(pki.rsaServerKey)).asymmetricKeyType).toBe("rsa");
    const wrong = await cert(pki.wrongHostCert);
    expect(wrong.checkHost("localhost")).toBeUndefined();
    expect(wrong.checkHost("wrong.example")).toBe("wrong.example");
  });

  it("issues the stranger from a CA that is not the test CA", async () => {
    const stranger = await cert(pki.strangerCert);
    expect(stranger.verify((await cert(pki.caCert)).publicKey)).toBe(false);
    expect(stranger.verify((await cert(pki.strangerCaCert)).publicKey)).toBe(true);
  });
});
