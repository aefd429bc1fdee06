import { readFileSync } from "node:fs";
import { createTempDir, describeWithPeers, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readKeystore } from "../read-keystore.js";
import { KEY_PASSWORD, STORE_PASSWORD, makeTestKeystores, type TestKeystores } from "./make-test-keystores.js";
import { makeTestPki, type TestPki } from "./make-test-pki.js";

function read(file: string, storePassword?: string) {
  return readKeystore(readFileSync(file), { file, storePassword });
}

describeWithPeers("keystore readers against keytool output", ["openssl", "keytool"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  let stores: TestKeystores;
  beforeAll(async () => {
    dir = await createTempDir("node-mirth-certs-");
    pki = await makeTestPki(dir.path, peers.bin.openssl!);
    stores = await makeTestKeystores(pki, { openssl: peers.bin.openssl!, keytool: peers.bin.keytool! });
  });
  afterAll(async () => {
    await dir?.remove();
  });

  describe.each(["jks", "jceks"] as const)("%s made by keytool", (type) => {
    it("lists key entries with their chains and the trusted certificate", () => {
      const contents = read(stores[type], STORE_PASSWORD);
      expect(contents.type).toBe(type);
      expect(contents.integrityChecked).toBe(true);
      expect(contents.keyEntries.map((entry) => entry.alias).sort()).toEqual(["ec", "server"]);
      const server = contents.keyEntries.find((entry) => entry.alias === "server")!;
      expect(server.chain.map((certificate) => certificate.subject)).toEqual([
        "CN=localhost",
        "CN=node-mirth Test Intermediate CA",
      ]);
      expect(contents.trustedCertificates.map((entry) => entry.certificate.subject)).toEqual([
        "CN=node-mirth Test Root CA",
      ]);
    });

    it("decrypts an RSA key under its own key password and an EC key under the store password", () => {
      const contents = read(stores[type], STORE_PASSWORD);
      for (const [alias, password] of [["server", KEY_PASSWORD], ["ec", STORE_PASSWORD]] as const) {
        const entry = contents.keyEntries.find((candidate) => candidate.alias === alias)!;
        const key = entry.decryptKey(password);
        expect(key.asymmetricKeyType).toBe(alias === "ec" ? "ec" : "rsa");
        expect(entry.chain[0]!.checkPrivateKey(key)).toBe(true);
      }
    });

    it("reports a wrong key password as ERR_CERTS_BAD_PASSWORD", () => {
      const server = read(stores[type], STORE_PASSWORD).keyEntries.find((entry) => entry.alias === "server")!;
      expect(() => server.decryptKey(STORE_PASSWORD)).toThrow(expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }));
    });

    it("reports a wrong store password as ERR_CERTS_BAD_PASSWORD", () => {
      expect(() => read(stores[type], "not-the-password")).toThrow(
        expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }),
      );
    });
  });

  it("reads keytool's default PKCS12 (EC key, trusted root)", () => {
    const contents = read(stores.pkcs12, STORE_PASSWORD);
    expect(contents.keyEntries.map((entry) => entry.alias)).toEqual(["gen-ec"]);
    const entry = contents.keyEntries[0]!;
    expect(entry.chain[0]!.checkPrivateKey(entry.decryptKey(STORE_PASSWORD))).toBe(true);
    expect(contents.trustedCertificates.map((trusted) => trusted.alias)).toEqual(["rootca"]);
  });

  it("reads a legacy RC2-40/3DES PKCS12 that OpenSSL 3 refuses by default", () => {
    const contents = read(stores.legacyPkcs12, STORE_PASSWORD);
    const entry = contents.keyEntries[0]!;
    expect(entry.alias).toBe("server");
    expect(entry.chain).toHaveLength(2);
    expect(entry.chain[0]!.checkPrivateKey(entry.decryptKey(STORE_PASSWORD))).toBe(true);
    expect(contents.trustedCertificates).toEqual([]);
  });

  it("reports a wrong PKCS12 password as ERR_CERTS_BAD_PASSWORD", () => {
    expect(() => read(stores.opensslPkcs12, "nope")).toThrow(expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }));
  });

  it("reads a keytool -genkeypair JKS whose key password differs from the store password", () => {
    const entry = read(stores.generatedJks, STORE_PASSWORD).keyEntries[0]!;
    expect(entry.chain[0]!.subject).toBe("CN=keytool-rsa");
    expect(entry.chain[0]!.checkPrivateKey(entry.decryptKey(KEY_PASSWORD))).toBe(true);
  });

  it("rejects a JCEKS secret-key entry by name", () => {
    expect(() => read(stores.secretJceks, STORE_PASSWORD)).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_SECRET_KEY_ENTRY", message: expect.stringContaining("hmac-secret") }),
    );
  });

  it("lists a JKS trust store without its password, saying integrity was not checked", () => {
    const contents = read(stores.trustJks);
    expect(contents.integrityChecked).toBe(false);
    expect(contents.trustedCertificates.map((entry) => entry.alias)).toEqual(["rootca"]);
  });
});
