import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CertsWarning } from "./certs-options.js";
import { loadKeyMaterial } from "./load-key-material.js";
import {
  issueCertificate,
  makeForgePki,
  makeForgePkcs12,
  type TestIdentity,
} from "./__tests__/forge-test-pki.js";
import { writeTestJks } from "./__tests__/write-test-jks.js";

const DAY_MS = 86_400_000;
let dir: TempDir;
let pki: ReturnType<typeof makeForgePki>;

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(path, content);
  return path;
}

const derOf = (identity: TestIdentity) => new X509Certificate(identity.certPem).raw;

beforeAll(async () => {
  dir = await createTempDir("node-mirth-certs-unit-");
  pki = makeForgePki();
});
afterAll(async () => {
  await dir.remove();
});

describe("loadKeyMaterial from PEM", () => {
  it("loads a PKCS#8 key, a leaf-first chain and a CA bundle, with the facts", async () => {
    const material = loadKeyMaterial({
      keyStorePath: await file("server.key", pki.server.keyPem),
      certStorePath: await file("chain.crt", pki.server.certPem + pki.intermediate.certPem),
      trustStorePath: await file("ca.crt", pki.root.certPem + pki.intermediate.certPem),
    });
    expect(material.keyMatchesLeaf).toBe(true);
    expect(material.chain.map((facts) => facts.subject)).toEqual([
      "CN=localhost",
      "CN=Unit Intermediate CA",
    ]);
    const leaf = material.chain[0]!;
    expect(leaf.issuer).toBe("CN=Unit Intermediate CA");
    expect(leaf.subjectAltNames).toEqual(["DNS:localhost", "IP Address:127.0.0.1"]);
    expect(leaf.isCA).toBe(false);
    expect(leaf.daysUntilExpiry).toBeGreaterThanOrEqual(89);
    expect(leaf.notBefore.getTime()).toBeLessThan(Date.now());
    expect(material.caCertificates.map((facts) => facts.subject)).toEqual([
      "CN=Unit Root CA",
      "CN=Unit Intermediate CA",
    ]);
    expect(material.key!.toString()).toContain("-----BEGIN PRIVATE KEY-----");
    expect(new X509Certificate(material.cert!).subject).toBe("CN=localhost");
    expect(material.ca!.toString().match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });

  it.each([
    [
      "PKCS#1",
      (id: TestIdentity) => id.privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
      undefined,
    ],
    [
      "encrypted PKCS#8",
      (id: TestIdentity) =>
        id.privateKey
          .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "s3cret" })
          .toString(),
      "s3cret",
    ],
    [
      "RFC 1421-encrypted PKCS#1",
      (id: TestIdentity) =>
        id.privateKey
          .export({ type: "pkcs1", format: "pem", cipher: "aes-128-cbc", passphrase: "s3cret" })
          .toString(),
      "s3cret",
    ],
  ] as const)("loads a %s key", async (label, encode, passphrase) => {
    const keyStorePath = await file(`${label}.key`, encode(pki.server));
    const material = loadKeyMaterial({
      keyStorePath,
      certStorePath: await file("leaf.crt", pki.server.certPem),
      passphrase,
    });
    expect(material.keyMatchesLeaf).toBe(true);
  });

  it("loads PEM files with CRLF line endings", async () => {
    const crlf = (text: string) => text.replaceAll("\r\n", "\n").replaceAll("\n", "\r\n");
    const material = loadKeyMaterial({
      keyStorePath: await file("crlf.key", crlf(pki.server.keyPem)),
      certStorePath: await file("crlf.crt", crlf(pki.server.certPem + pki.intermediate.certPem)),
    });
    expect(material.chain).toHaveLength(2);
    expect(material.keyMatchesLeaf).toBe(true);
  });

  it("warns at every load about a certificate that expires within 30 days", async () => {
    const soon = issueCertificate({
      commonName: "soon",
      notAfter: new Date(Date.now() + 5 * DAY_MS),
    });
    const warnings: CertsWarning[] = [];
    loadKeyMaterial(
      {
        keyStorePath: await file("soon.key", soon.keyPem),
        certStorePath: await file("soon.crt", soon.certPem),
      },
      { onWarning: (warning) => warnings.push(warning) },
    );
    expect(warnings).toEqual([
      expect.objectContaining({
        code: "ERR_CERTS_EXPIRED",
        message: expect.stringMatching(/expires in [45] days/),
      }),
    ]);
  });

  it("loads a SEC1 EC key", async () => {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const keyStorePath = await file(
      "ec.key",
      privateKey.export({ type: "sec1", format: "pem" }).toString(),
    );
    const material = loadKeyMaterial({ keyStorePath });
    expect(material.key!.toString()).toContain("BEGIN PRIVATE KEY");
    expect(material.keyMatchesLeaf).toBeUndefined();
  });

  it("takes the chain from a combined key + certificate PEM file", async () => {
    const keyStorePath = await file(
      "combined.pem",
      pki.server.keyPem + pki.server.certPem + pki.intermediate.certPem,
    );
    const material = loadKeyMaterial({ keyStorePath });
    expect(material.chain).toHaveLength(2);
    expect(material.keyMatchesLeaf).toBe(true);
  });

  it("asks for the passphrase of an encrypted key, and refuses a wrong one", async () => {
    const keyStorePath = await file(
      "enc.key",
      pki.server.privateKey
        .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "right" })
        .toString(),
    );
    expect(() => loadKeyMaterial({ keyStorePath })).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_PASSPHRASE_REQUIRED",
        message: expect.stringContaining(keyStorePath),
      }),
    );
    expect(() => loadKeyMaterial({ keyStorePath, passphrase: "wrong" })).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_BAD_PASSWORD",
        message: expect.stringContaining(keyStorePath),
      }),
    );
  });

  it("refuses a key that does not belong to the leaf, without printing key material", async () => {
    const keyStorePath = await file("other.key", pki.other.keyPem);
    const certStorePath = await file("server.crt", pki.server.certPem);
    let caught: unknown;
    try {
      loadKeyMaterial({ keyStorePath, certStorePath });
    } catch (error) {
      caught = error;
    }
    expect(caught).toMatchObject({ code: "ERR_CERTS_KEY_MISMATCH" });
    const message = (caught as Error).message;
    expect(message).toContain(keyStorePath);
    expect(message).toContain(certStorePath);
    expect(message).not.toMatch(/BEGIN|MII/);
  });

  it("says the leaf must come first when the chain is in the wrong order", async () => {
    const keyPath = await file("s.key", pki.server.keyPem);
    const certPath = await file("reversed.crt", pki.intermediate.certPem + pki.server.certPem);
    expect(() =>
      loadKeyMaterial({
        keyStorePath: keyPath,
        certStorePath: certPath,
      }),
    ).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_KEY_MISMATCH",
        message: expect.stringContaining("leaf certificate first"),
      }),
    );
  });

  it("names a missing file, an unreadable one and one that is not PEM", async () => {
    const missing = join(dir.path, "nope.key");
    expect(() => loadKeyMaterial({ keyStorePath: missing })).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_FILE_NOT_FOUND",
        message: expect.stringContaining(missing),
      }),
    );
    const directory = join(dir.path, "a-directory");
    await mkdir(directory);
    expect(() => loadKeyMaterial({ certStorePath: directory })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_FILE_UNREADABLE" }),
    );
    const garbage = await file("garbage.crt", "hello, not a certificate\n");
    expect(() => loadKeyMaterial({ certStorePath: garbage })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_NOT_PEM" }),
    );
    const onlyCert = await file("only-cert.pem", pki.server.certPem);
    expect(() => loadKeyMaterial({ keyStorePath: onlyCert })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_NOT_PEM" }),
    );
  });

  it("refuses a CA file without a CA certificate", async () => {
    const trustStorePath = await file("leaf-as-ca.crt", pki.server.certPem);
    expect(() => loadKeyMaterial({ trustStorePath })).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_NOT_A_CA",
        message: expect.stringContaining(trustStorePath),
      }),
    );
  });

  it("accepts a self-signed peer certificate without CA:TRUE as a trust anchor", async () => {
    const pinned = issueCertificate({ commonName: "pinned-peer", ca: false });
    const material = loadKeyMaterial({ trustStorePath: await file("pinned.crt", pinned.certPem) });
    expect(material.caCertificates[0]!.selfSigned).toBe(true);
  });
});

describe("loadKeyMaterial validity", () => {
  let expired: TestIdentity;
  let future: TestIdentity;
  beforeAll(() => {
    expired = issueCertificate({
      commonName: "expired",
      notBefore: new Date(Date.now() - 30 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    future = issueCertificate({
      commonName: "future",
      notBefore: new Date(Date.now() + 10 * DAY_MS),
    });
  });

  it("refuses an expired or not yet valid certificate by default", async () => {
    const paths = {
      expired: {
        keyStorePath: await file("x.key", expired.keyPem),
        certStorePath: await file("x.crt", expired.certPem),
      },
      future: {
        keyStorePath: await file("f.key", future.keyPem),
        certStorePath: await file("f.crt", future.certPem),
      },
    };
    expect(() => loadKeyMaterial(paths.expired)).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_EXPIRED",
        message: expect.stringContaining("x.crt"),
      }),
    );
    expect(() => loadKeyMaterial(paths.future)).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_NOT_YET_VALID" }),
    );
  });

  it("only warns with validity: warn", async () => {
    const warnings: CertsWarning[] = [];
    const material = loadKeyMaterial(
      {
        keyStorePath: await file("x2.key", expired.keyPem),
        certStorePath: await file("x2.crt", expired.certPem),
      },
      { validity: "warn", onWarning: (warning) => warnings.push(warning) },
    );
    expect(material.chain[0]!.daysUntilExpiry).toBeLessThan(0);
    expect(warnings.map((warning) => warning.code)).toEqual(["ERR_CERTS_EXPIRED"]);
  });

  it("judges validity by the given clock", async () => {
    const props = {
      keyStorePath: await file("s2.key", pki.server.keyPem),
      certStorePath: await file("s2.crt", pki.server.certPem),
    };
    expect(() => loadKeyMaterial(props, { now: new Date(Date.now() + 400 * DAY_MS) })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_EXPIRED" }),
    );
  });

  it("only warns about an expired certificate in a CA bundle", async () => {
    const oldRoot = issueCertificate({
      commonName: "Old Root",
      ca: true,
      notBefore: new Date(Date.now() - 30 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    const warnings: CertsWarning[] = [];
    const material = loadKeyMaterial(
      { trustStorePath: await file("bundle.crt", oldRoot.certPem + pki.root.certPem) },
      { onWarning: (warning) => warnings.push(warning) },
    );
    expect(material.caCertificates).toHaveLength(2);
    expect(warnings).toEqual([expect.objectContaining({ code: "ERR_CERTS_EXPIRED" })]);
  });
});

describe("loadKeyMaterial from keystores", () => {
  it("converts a JKS in keyStorePath in memory, by alias, with its own key password", async () => {
    const keyStorePath = await file(
      "server.jks",
      writeTestJks({
        storePassword: "storepass",
        keyPassword: "keypass",
        keys: [
          {
            alias: "server",
            privateKey: pki.server.privateKey,
            chainDer: [derOf(pki.server), derOf(pki.intermediate)],
          },
          { alias: "other", privateKey: pki.other.privateKey, chainDer: [derOf(pki.other)] },
        ],
        trusted: [],
      }),
    );
    const props = { keyStorePath, keyStorePassword: "storepass", keyPassword: "keypass" };
    const material = loadKeyMaterial({ ...props, keyAlias: "SERVER" });
    expect(material.chain.map((facts) => facts.subject)).toEqual([
      "CN=localhost",
      "CN=Unit Intermediate CA",
    ]);
    expect(material.keyMatchesLeaf).toBe(true);
    expect(() => loadKeyMaterial(props)).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_ALIAS_REQUIRED" }),
    );
    expect(() => loadKeyMaterial({ ...props, keyAlias: "nope" })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_ALIAS_NOT_FOUND" }),
    );
    expect(() => loadKeyMaterial({ keyStorePath, keyAlias: "server" })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_PASSPHRASE_REQUIRED" }),
    );
  });

  it("uses a PKCS12 in keyStorePath and a JKS of trusted certificates as trustStorePath", async () => {
    const keyStorePath = await file(
      "server.p12",
      makeForgePkcs12({
        identity: pki.server,
        chain: [pki.intermediate],
        password: "p12pass",
        friendlyName: "server",
      }),
    );
    const trustStorePath = await file(
      "trust.jks",
      writeTestJks({
        storePassword: "trustpass",
        keyPassword: "",
        keys: [],
        trusted: [{ alias: "root", der: derOf(pki.root) }],
      }),
    );
    const material = loadKeyMaterial({
      keyStorePath,
      keyStorePassword: "p12pass",
      trustStorePath,
      trustStorePassword: "trustpass",
    });
    expect(material.chain).toHaveLength(2);
    expect(material.caCertificates.map((facts) => facts.subject)).toEqual(["CN=Unit Root CA"]);
    expect(() => loadKeyMaterial({ trustStorePath, trustStorePassword: "wrong" })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }),
    );
  });

  it("warns that a trust store read without its password is unverified", async () => {
    const trustStorePath = await file(
      "trust2.jks",
      writeTestJks({
        storePassword: "trustpass",
        keyPassword: "",
        keys: [],
        trusted: [{ alias: "root", der: derOf(pki.root) }],
      }),
    );
    const warnings: CertsWarning[] = [];
    loadKeyMaterial({ trustStorePath }, { onWarning: (warning) => warnings.push(warning) });
    expect(warnings.map((warning) => warning.message).join()).toContain("was not verified");
  });
});
