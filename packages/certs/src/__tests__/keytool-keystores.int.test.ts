import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { createTempDir, describeWithPeers, runCommand, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { convertKeystore } from "../convert-keystore.js";
import { readKeystore } from "../read-keystore.js";
import {
  KEY_PASSWORD,
  STORE_PASSWORD,
  makeTestKeystores,
  type TestKeystores,
} from "./make-test-keystores.js";
import { makeTestPki, type TestPki } from "./make-test-pki.js";

function read(file: string, storePassword?: string) {
  return readKeystore(readFileSync(file), { file, storePassword });
}

describeWithPeers("keystores made by keytool and openssl", ["openssl", "keytool"], (peers) => {
  let dir: TempDir;
  let pki: TestPki;
  let stores: TestKeystores;
  beforeAll(async () => {
    dir = await createTempDir("node-mirth-certs-");
    pki = await makeTestPki(dir.path, peers.bin.openssl!);
    stores = await makeTestKeystores(pki, {
      openssl: peers.bin.openssl!,
      keytool: peers.bin.keytool!,
    });
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
      for (const [alias, password] of [
        ["server", KEY_PASSWORD],
        ["ec", STORE_PASSWORD],
      ] as const) {
        const entry = contents.keyEntries.find((candidate) => candidate.alias === alias)!;
        const key = entry.decryptKey(password);
        expect(key.asymmetricKeyType).toBe(alias === "ec" ? "ec" : "rsa");
        expect(entry.chain[0]!.checkPrivateKey(key)).toBe(true);
      }
    });

    it("reports a wrong key password as ERR_CERTS_BAD_PASSWORD", () => {
      const server = read(stores[type], STORE_PASSWORD).keyEntries.find(
        (entry) => entry.alias === "server",
      )!;
      expect(() => server.decryptKey(STORE_PASSWORD)).toThrow(
        expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }),
      );
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
    expect(() =>
      createSecureContext({ pfx: readFileSync(stores.legacyPkcs12), passphrase: STORE_PASSWORD }),
    ).toThrow();
    const contents = read(stores.legacyPkcs12, STORE_PASSWORD);
    const entry = contents.keyEntries[0]!;
    expect(entry.alias).toBe("server");
    expect(entry.chain).toHaveLength(2);
    expect(entry.chain[0]!.checkPrivateKey(entry.decryptKey(STORE_PASSWORD))).toBe(true);
    expect(contents.trustedCertificates).toEqual([]);
  });

  it("reports a wrong PKCS12 password as ERR_CERTS_BAD_PASSWORD", () => {
    expect(() => read(stores.opensslPkcs12, "nope")).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }),
    );
  });

  it("reads a keytool -genkeypair JKS whose key password differs from the store password", () => {
    const entry = read(stores.generatedJks, STORE_PASSWORD).keyEntries[0]!;
    expect(entry.chain[0]!.subject).toBe("CN=keytool-rsa");
    expect(entry.chain[0]!.checkPrivateKey(entry.decryptKey(KEY_PASSWORD))).toBe(true);
  });

  it("rejects a JCEKS secret-key entry by name", () => {
    expect(() => read(stores.secretJceks, STORE_PASSWORD)).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_SECRET_KEY_ENTRY",
        message: expect.stringContaining("hmac-secret"),
      }),
    );
  });

  it("lists a JKS trust store without its password, saying integrity was not checked", () => {
    const contents = read(stores.trustJks);
    expect(contents.integrityChecked).toBe(false);
    expect(contents.trustedCertificates.map((entry) => entry.alias)).toEqual(["rootca"]);
  });

  describe("convertKeystore", () => {
    const cases = [
      {
        name: "JKS RSA entry with its own key password",
        store: "jks",
        alias: "server",
        keyPassword: KEY_PASSWORD,
        chain: 2,
      },
      { name: "JKS EC entry", store: "jks", alias: "ec", keyPassword: undefined, chain: 1 },
      {
        name: "JCEKS RSA entry with its own key password",
        store: "jceks",
        alias: "server",
        keyPassword: KEY_PASSWORD,
        chain: 2,
      },
      {
        name: "keytool PKCS12 (EC)",
        store: "pkcs12",
        alias: undefined,
        keyPassword: undefined,
        chain: 1,
      },
      {
        name: "keytool -genkeypair JKS",
        store: "generatedJks",
        alias: undefined,
        keyPassword: KEY_PASSWORD,
        chain: 1,
      },
      {
        name: "legacy openssl PKCS12",
        store: "legacyPkcs12",
        alias: undefined,
        keyPassword: undefined,
        chain: 2,
      },
    ] as const;

    it.each(cases)(
      "converts a $name to PEM that Node and OpenSSL accept",
      async ({ store, alias, keyPassword, chain }) => {
        const outDir = join(dir.path, `out-${store}-${alias ?? "only"}`);
        const result = await convertKeystore(stores[store], {
          storePassword: STORE_PASSWORD,
          outDir,
          ...(alias === undefined ? {} : { alias }),
          ...(keyPassword === undefined ? {} : { keyPassword }),
        });
        const key = createPrivateKey(readFileSync(result.keyFile!));
        const certificates = readFileSync(result.certFile!, "utf8").match(
          /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g,
        )!;
        expect(certificates).toHaveLength(chain);
        expect(new X509Certificate(certificates[0]).checkPrivateKey(key)).toBe(true);
        expect(statSync(result.keyFile!).mode & 0o777).toBe(0o600);
        const pkey = await runCommand(peers.bin.openssl!, [
          "pkey",
          "-in",
          result.keyFile!,
          "-noout",
        ]);
        expect(pkey.code).toBe(0);
        if (chain === 2) {
          const verify = await runCommand(peers.bin.openssl!, [
            "verify",
            "-CAfile",
            pki.caCert,
            "-untrusted",
            result.certFile!,
            result.certFile!,
          ]);
          expect(verify.stdout.toString()).toContain(": OK");
        }
      },
    );

    it("writes the trusted entries of a keystore to ca.crt", async () => {
      const result = await convertKeystore(stores.jks, {
        storePassword: STORE_PASSWORD,
        alias: "ec",
        outDir: join(dir.path, "with-ca"),
      });
      expect(new X509Certificate(readFileSync(result.caFile!)).subject).toBe(
        "CN=node-mirth Test Root CA",
      );
    });

    it("fails cleanly on a wrong store or key password", async () => {
      const outDir = join(dir.path, "never");
      for (const store of [stores.jks, stores.jceks, stores.pkcs12, stores.legacyPkcs12]) {
        await expect(
          convertKeystore(store, { storePassword: "wrong", alias: "server", outDir }),
        ).rejects.toMatchObject({
          code: "ERR_CERTS_BAD_PASSWORD",
          message: expect.stringContaining(store),
        });
      }
      await expect(
        convertKeystore(stores.jceks, { storePassword: STORE_PASSWORD, alias: "server", outDir }),
      ).rejects.toMatchObject({
        code: "ERR_CERTS_BAD_PASSWORD",
        message: expect.stringContaining("keyPassword"),
      });
      expect(() => statSync(outDir)).toThrow();
    });
  });
});
