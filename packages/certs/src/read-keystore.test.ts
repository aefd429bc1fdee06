import { X509Certificate } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { isCertsError } from "./certs-error.js";
import { detectKeystoreType, readKeystore } from "./read-keystore.js";
import { makeForgePki, makeForgePkcs12 } from "./__tests__/forge-test-pki.js";
import { writeTestJks } from "./__tests__/write-test-jks.js";

const FILE = "/etc/node-mirth/fuzz.jks";
let jks: Buffer;
let jceks: Buffer;
let pkcs12: Buffer;
let pki: ReturnType<typeof makeForgePki>;

beforeAll(() => {
  pki = makeForgePki();
  const der = (pem: string) => new X509Certificate(pem).raw;
  jks = writeTestJks({
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
  });
  jceks = writeTestJks({
    storePassword: "storepass",
    keyPassword: "keypass",
    keys: [
      { alias: "server", privateKey: pki.server.privateKey, chainDer: [der(pki.server.certPem)] },
    ],
    trusted: [],
    jceks: { salt: Buffer.from("salt4jce"), iterations: 20 },
  });
  pkcs12 = makeForgePkcs12({
    identity: pki.server,
    chain: [pki.intermediate],
    password: "storepass",
  });
});

/** Reads and decrypts everything; returns the error, which must be one of ours. */
function readFully(bytes: Uint8Array, storePassword?: string): unknown {
  try {
    const contents = readKeystore(Buffer.from(bytes), { file: FILE, storePassword });
    for (const entry of contents.keyEntries) entry.decryptKey("keypass");
    return undefined;
  } catch (error) {
    return error;
  }
}

function onlyTypedErrors(error: unknown): boolean {
  if (error === undefined || isCertsError(error)) return true;
  throw new Error("an untyped error escaped a keystore reader", { cause: error });
}

const RUNS = { numRuns: 1000 };

describe("readKeystore", () => {
  it("reads the test JKS and PKCS12 (the fuzz seeds are valid)", () => {
    const contents = readKeystore(jks, { file: FILE, storePassword: "storepass" });
    expect(
      contents.keyEntries[0]!.chain[0]!.checkPrivateKey(
        contents.keyEntries[0]!.decryptKey("keypass"),
      ),
    ).toBe(true);
    expect(contents.trustedCertificates.map((entry) => entry.alias)).toEqual(["root"]);
    const p12 = readKeystore(pkcs12, { file: FILE, storePassword: "storepass" });
    expect(p12.keyEntries[0]!.chain).toHaveLength(2);
    expect(p12.integrityChecked).toBe(true);
    expect(detectKeystoreType(jks)).toBe("jks");
    expect(detectKeystoreType(pkcs12)).toBe("pkcs12");
  });

  it("reads a version 1 JKS, which has no certificate type names, and a non-ASCII alias", () => {
    const v1 = writeTestJks({
      version: 1,
      storePassword: "pässwörd",
      keyPassword: "pässwörd",
      keys: [
        {
          alias: "sérveur",
          privateKey: pki.server.privateKey,
          chainDer: [new X509Certificate(pki.server.certPem).raw],
        },
      ],
      trusted: [],
    });
    const [entry] = readKeystore(v1, { file: FILE, storePassword: "pässwörd" }).keyEntries;
    expect(entry!.alias).toBe("sérveur");
    expect(entry!.chain[0]!.checkPrivateKey(entry!.decryptKey("pässwörd"))).toBe(true);
  });

  it.each([
    ["distinct salt halves", Buffer.from([9, 8, 7, 6, 5, 4, 3, 2])],
    ["equal salt halves (Sun reverses the first)", Buffer.from([1, 2, 3, 4, 1, 2, 3, 4])],
  ])("decrypts a JCEKS key protected with %s", (_label, salt) => {
    const store = writeTestJks({
      storePassword: "storepass",
      keyPassword: "keypass",
      keys: [
        {
          alias: "server",
          privateKey: pki.server.privateKey,
          chainDer: [new X509Certificate(pki.server.certPem).raw],
        },
      ],
      trusted: [],
      jceks: { salt, iterations: 20 },
    });
    const contents = readKeystore(store, { file: FILE, storePassword: "storepass" });
    expect(contents.type).toBe("jceks");
    const [entry] = contents.keyEntries;
    expect(entry!.chain[0]!.checkPrivateKey(entry!.decryptKey("keypass"))).toBe(true);
    expect(() => entry!.decryptKey("storepass")).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }),
    );
  });

  it("says when a PKCS12 has no MAC to verify", () => {
    const noMac = makeForgePkcs12({
      identity: pki.server,
      chain: [],
      password: "pw",
      useMac: false,
    });
    const contents = readKeystore(noMac, { file: FILE, storePassword: "pw" });
    expect(contents.integrityChecked).toBe(false);
    expect(contents.keyEntries).toHaveLength(1);
  });

  it("names an unsupported or PEM file", () => {
    expect(() =>
      readKeystore(Buffer.from("-----BEGIN CERTIFICATE-----\n"), { file: FILE }),
    ).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_UNSUPPORTED_KEYSTORE",
        message: expect.stringContaining("PEM"),
      }),
    );
    const derCertificate = new X509Certificate(pki.root.certPem).raw;
    expect(() => readKeystore(derCertificate, { file: FILE })).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_UNSUPPORTED_KEYSTORE",
        message: expect.stringContaining("openssl x509 -inform der"),
      }),
    );
    expect(() => readKeystore(Buffer.from([0, 0, 0, 2, 1, 2, 3]), { file: FILE })).toThrow(
      expect.objectContaining({
        code: "ERR_CERTS_UNSUPPORTED_KEYSTORE",
        message: expect.stringContaining(FILE),
      }),
    );
  });

  it("reports a truncated JKS as corrupt when read without a password, and as a bad password with one", () => {
    const cut = jks.subarray(0, jks.length - 100);
    expect(() => readKeystore(cut, { file: FILE })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_CORRUPT_KEYSTORE" }),
    );
    expect(() => readKeystore(cut, { file: FILE, storePassword: "storepass" })).toThrow(
      expect.objectContaining({ code: "ERR_CERTS_BAD_PASSWORD" }),
    );
  });
});

describe("keystore readers on hostile bytes throw only CertsError", () => {
  const passwords = fc.constantFrom(undefined, "storepass", "");

  it("arbitrary bytes, bare and behind each magic", () => {
    const prefix = fc.constantFrom(
      [],
      [0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2],
      [0xce, 0xce, 0xce, 0xce, 0, 0, 0, 2],
      [0x30],
    );
    fc.assert(
      fc.property(prefix, fc.uint8Array({ maxLength: 600 }), passwords, (head, tail, password) =>
        onlyTypedErrors(readFully(Uint8Array.from([...head, ...tail]), password)),
      ),
      RUNS,
    );
  });

  it("every truncation of a valid JKS, JCEKS and PKCS12", () => {
    for (const seed of [jks, jceks, pkcs12]) {
      for (let length = 0; length < seed.length; length += 7) {
        expect(onlyTypedErrors(readFully(seed.subarray(0, length)))).toBe(true);
        expect(onlyTypedErrors(readFully(seed.subarray(0, length), "storepass"))).toBe(true);
      }
    }
  });

  it("valid JKS, JCEKS and PKCS12 with bytes overwritten", () => {
    const mutation = fc.record({
      seed: fc.constantFrom(jks, jceks, pkcs12),
      edits: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
        minLength: 1,
        maxLength: 8,
      }),
    });
    fc.assert(
      fc.property(mutation, passwords, ({ seed, edits }, password) => {
        const bytes = Buffer.from(seed);
        for (const edit of edits) bytes[edit.at % bytes.length] = edit.value;
        return onlyTypedErrors(readFully(bytes, password));
      }),
      RUNS,
    );
  });
});
