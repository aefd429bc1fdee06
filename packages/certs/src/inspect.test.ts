import { X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTempDir, type TempDir } from "@node-mirth/test-peers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspect } from "./inspect.js";
import { issueCertificate, makeForgePki } from "./__tests__/forge-test-pki.js";
import { writeTestJks } from "./__tests__/write-test-jks.js";

const DAY_MS = 86_400_000;
let dir: TempDir;
let pki: ReturnType<typeof makeForgePki>;

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(path, content);
  return path;
}

beforeAll(async () => {
  dir = await createTempDir("node-mirth-certs-inspect-");
  pki = makeForgePki();
});
afterAll(async () => {
  await dir.remove();
});

describe("inspect a PEM file", () => {
  it("describes a key with its chain and finds no problem", async () => {
    const report = inspect(
      await file("combined.pem", pki.server.keyPem + pki.server.certPem + pki.intermediate.certPem),
    );
    expect(report.format).toBe("pem");
    expect(report.problems).toEqual([]);
    const [entry] = report.entries;
    expect(entry).toMatchObject({
      kind: "certificates",
      keyType: "rsa 2048",
      keyMatchesLeaf: true,
    });
    expect(entry!.certificates.map((facts) => facts.subject)).toEqual([
      "CN=localhost",
      "CN=Unit Intermediate CA",
    ]);
    expect(entry!.certificates[0]!.daysUntilExpiry).toBeGreaterThan(80);
  });

  it("warns about a certificate expiring within 30 days and errs on an expired one", async () => {
    const soon = issueCertificate({
      commonName: "soon",
      notAfter: new Date(Date.now() + 10 * DAY_MS),
    });
    const gone = issueCertificate({
      commonName: "gone",
      notBefore: new Date(Date.now() - 9 * DAY_MS),
      notAfter: new Date(Date.now() - DAY_MS),
    });
    const report = inspect(await file("two.crt", soon.certPem + gone.certPem));
    expect(report.problems.map((problem) => [problem.severity, problem.code])).toEqual([
      ["warning", "ERR_CERTS_EXPIRED"],
      ["error", "ERR_CERTS_EXPIRED"],
    ]);
    expect(report.problems[0]!.message).toMatch(/expires in (9|10) days/);
  });

  it("reports a key that does not match and an encrypted key it cannot open", async () => {
    const mismatch = inspect(await file("mismatch.pem", pki.other.keyPem + pki.server.certPem));
    expect(mismatch.entries[0]!.keyMatchesLeaf).toBe(false);
    expect(mismatch.problems).toEqual([
      expect.objectContaining({ severity: "error", code: "ERR_CERTS_KEY_MISMATCH" }),
    ]);
    const encrypted = await file(
      "enc.pem",
      pki.server.privateKey
        .export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" })
        .toString() + pki.server.certPem,
    );
    expect(inspect(encrypted).problems).toEqual([
      expect.objectContaining({ severity: "warning", code: "ERR_CERTS_PASSPHRASE_REQUIRED" }),
    ]);
    expect(inspect(encrypted, { passphrase: "nope" }).problems).toEqual([
      expect.objectContaining({ severity: "error", code: "ERR_CERTS_BAD_PASSWORD" }),
    ]);
    expect(inspect(encrypted, { passphrase: "pw" }).entries[0]!.keyMatchesLeaf).toBe(true);
  });

  it("refuses PEM without a key or certificate, and a file that is no keystore", async () => {
    const other = await file("other.pem", "-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n");
    expect(() => inspect(other)).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_NOT_PEM",
        message: expect.stringContaining(other),
      }),
    );
    const binary = await file("random.bin", Buffer.from([1, 2, 3, 4, 5]));
    expect(() => inspect(binary)).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_UNSUPPORTED_KEYSTORE" }),
    );
  });
});

describe("inspect a keystore", () => {
  let jks: string;
  beforeAll(async () => {
    const der = (pem: string) => new X509Certificate(pem).raw;
    jks = await file(
      "store.jks",
      writeTestJks({
        storePassword: "storepass",
        keyPassword: "keypass",
        keys: [
          {
            alias: "server",
            privateKey: pki.server.privateKey,
            chainDer: [der(pki.server.certPem), der(pki.intermediate.certPem)],
          },
        ],
        trusted: [{ alias: "root", der: der(pki.root.certPem) }],
      }),
    );
  });

  it("lists entries without the password, saying integrity is unverified", () => {
    const report = inspect(jks);
    expect(report).toMatchObject({ format: "jks", integrityChecked: false });
    expect(report.entries.map((entry) => [entry.kind, entry.alias, entry.keyType])).toEqual([
      ["private-key", "server", undefined],
      ["trusted-certificate", "root", undefined],
    ]);
    expect(report.problems).toEqual([
      expect.objectContaining({ severity: "warning", code: "ERR_CERTS_PASSPHRASE_REQUIRED" }),
    ]);
  });

  it("decrypts the key with its own password and checks it against the leaf", () => {
    const wrongKeyPassword = inspect(jks, { storePassword: "storepass" });
    expect(wrongKeyPassword.problems).toEqual([
      expect.objectContaining({ severity: "error", code: "ERR_CERTS_BAD_PASSWORD" }),
    ]);
    const report = inspect(jks, { storePassword: "storepass", keyPassword: "keypass" });
    expect(report.problems).toEqual([]);
    expect(report.entries[0]).toMatchObject({ keyType: "rsa 2048", keyMatchesLeaf: true });
  });

  it("throws on a wrong store password", () => {
    expect(() => inspect(jks, { storePassword: "nope" })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }),
    );
  });
});
