import { generateKeyPairSync, type KeyObject } from "node:crypto";
import forge from "node-forge";

/** A key and certificate made in-process, for unit tests that must not need openssl. */
export interface TestIdentity {
  privateKey: KeyObject;
  keyPem: string;
  certPem: string;
  forgeKey: forge.pki.rsa.PrivateKey;
  forgeCert: forge.pki.Certificate;
}

export interface IssueOptions {
  commonName: string;
  /** Signs the certificate; self-signed when absent. */
  issuer?: TestIdentity;
  ca?: boolean;
  /** DNS names; "127.0.0.1"-style entries become IP addresses. */
  altNames?: string[];
  notBefore?: Date;
  notAfter?: Date;
}

const DAY_MS = 86_400_000;
let serial = 1;

/** An RSA 2048 identity; Node generates the key (fast), forge writes the certificate. */
export function issueCertificate(options: IssueOptions): TestIdentity {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(
    publicKey.export({ type: "spki", format: "pem" }).toString(),
  );
  cert.serialNumber = (serial++).toString(16).padStart(4, "0");
  cert.validity.notBefore = options.notBefore ?? new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = options.notAfter ?? new Date(Date.now() + 90 * DAY_MS);
  const subject = [{ name: "commonName", value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(
    options.issuer === undefined ? subject : options.issuer.forgeCert.subject.attributes,
  );
  const extensions: object[] = [
    { name: "basicConstraints", cA: options.ca === true, critical: true },
  ];
  if (options.ca === true)
    extensions.push({ name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true });
  if (options.altNames !== undefined) {
    extensions.push({
      name: "subjectAltName",
      altNames: options.altNames.map((name) =>
        /^[\d.]+$/.test(name) ? { type: 7, ip: name } : { type: 2, value: name },
      ),
    });
  }
  cert.setExtensions(extensions);
  cert.sign(options.issuer?.forgeKey ?? forgeKey, forge.md.sha256.create());
  return {
    privateKey,
    keyPem,
    certPem: forge.pki.certificateToPem(cert),
    forgeKey,
    forgeCert: cert,
  };
}

/** Root CA -> intermediate -> server (localhost, 127.0.0.1), and a second unrelated server. */
export function makeForgePki() {
  const root = issueCertificate({ commonName: "Unit Root CA", ca: true });
  const intermediate = issueCertificate({
    commonName: "Unit Intermediate CA",
    ca: true,
    issuer: root,
  });
  const server = issueCertificate({
    commonName: "localhost",
    issuer: intermediate,
    altNames: ["localhost", "127.0.0.1"],
  });
  const other = issueCertificate({
    commonName: "other.example",
    issuer: intermediate,
    altNames: ["other.example"],
  });
  return { root, intermediate, server, other };
}

/** A PKCS12 made by forge (3DES, SHA-1 MAC): key + chain, and optionally trusted certificates. */
export function makeForgePkcs12(options: {
  identity: TestIdentity;
  chain: TestIdentity[];
  password: string;
  friendlyName?: string;
  useMac?: boolean;
}): Buffer {
  const asn1 = forge.pkcs12.toPkcs12Asn1(
    options.identity.forgeKey,
    [options.identity.forgeCert, ...options.chain.map((identity) => identity.forgeCert)],
    options.password,
    {
      algorithm: "3des",
      useMac: options.useMac ?? true,
      ...(options.friendlyName === undefined ? {} : { friendlyName: options.friendlyName }),
    },
  );
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary");
}
