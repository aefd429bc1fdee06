import { createPrivateKey, type KeyObject, type X509Certificate } from "node:crypto";
import forge from "node-forge";
import { buildChain } from "./build-chain.js";
import { CertsError } from "./certs-error.js";
import { parseCertificate } from "./certificate-facts.js";
import type {
  KeystoreCertificateEntry,
  KeystoreContents,
  KeystoreKeyEntry,
  ReadKeystoreOptions,
} from "./keystore-contents.js";

interface CertificateBag {
  certificate: X509Certificate;
  localKeyId: string | undefined;
  friendlyName: string | undefined;
  trusted: boolean;
}

/**
 * Reads PKCS#12 through node-forge rather than OpenSSL, because hospitals' older .p12/.pfx
 * files use RC2-40 and 3DES, which Node's OpenSSL 3 refuses without the legacy provider.
 * PKCS12 has one password: keytool and openssl both protect keys with the store password.
 */
export function readPkcs12(bytes: Buffer, options: ReadKeystoreOptions): KeystoreContents {
  const { file } = options;
  const { pfx, macVerified } = decodePfx(bytes, options);
  const keys: { alias: string; localKeyId: string | undefined; privateKey: KeyObject }[] = [];
  const certificates: CertificateBag[] = [];
  for (const contents of pfx.safeContents) {
    for (const bag of contents.safeBags) {
      if (bag.type === forge.pki.oids.certBag) {
        certificates.push(toCertificateBag(bag, file));
      } else if (
        bag.type === forge.pki.oids.pkcs8ShroudedKeyBag ||
        bag.type === forge.pki.oids.keyBag
      ) {
        keys.push({
          alias: attribute(bag, "friendlyName") ?? `key-${keys.length + 1}`,
          localKeyId: localKeyIdOf(bag),
          privateKey: toPrivateKey(bag, file),
        });
      }
    }
  }

  const used = new Set<X509Certificate>();
  const keyEntries: KeystoreKeyEntry[] = keys.map((key) => {
    const leaf =
      certificates.find((bag) => key.localKeyId !== undefined && bag.localKeyId === key.localKeyId)
        ?.certificate ??
      certificates.find((bag) => bag.certificate.checkPrivateKey(key.privateKey))?.certificate;
    const decryptKey = () => key.privateKey;
    if (leaf === undefined) return { alias: key.alias, chain: [], decryptKey };
    const pool = certificates
      .filter((bag) => bag.localKeyId === undefined)
      .map((bag) => bag.certificate);
    const chain = buildChain(leaf, pool);
    for (const certificate of chain) used.add(certificate);
    return { alias: key.alias, chain, decryptKey };
  });
  const trustedCertificates: KeystoreCertificateEntry[] = certificates
    .filter((bag) => bag.trusted || !used.has(bag.certificate))
    .map((bag, index) => ({
      alias: bag.friendlyName ?? `cert-${index + 1}`,
      certificate: bag.certificate,
    }));
  return { type: "pkcs12", keyEntries, trustedCertificates, integrityChecked: macVerified };
}

function decodePfx(
  bytes: Buffer,
  options: ReadKeystoreOptions,
): { pfx: forge.pkcs12.Pkcs12Pfx; macVerified: boolean } {
  const { file, storePassword } = options;
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(bytes.toString("binary")));
  } catch (error) {
    throw corrupt(file, error);
  }
  try {
    const pfx = forge.pkcs12.pkcs12FromAsn1(asn1, false, storePassword ?? "");
    // forge refuses a PFX whose macData it did not verify, so present means verified.
    const macVerified = Array.isArray(asn1.value) && asn1.value.length > 2;
    return { pfx, macVerified };
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (/password/i.test(text)) {
      if (storePassword === undefined) {
        throw new CertsError(
          "ERR_CERTS_PASSPHRASE_REQUIRED",
          `${file} is a password-protected PKCS12 keystore; give its store password (keyStorePassword / trustStorePassword / --store-password-env).`,
          { cause: error, details: { file } },
        );
      }
      throw new CertsError(
        "ERR_CERTS_BAD_PASSWORD",
        `the store password for ${file} is wrong, or the keystore was altered; check keyStorePassword / trustStorePassword (openssl pkcs12 -info -in ${file} -noout shows the same failure).`,
        { cause: error, details: { file } },
      );
    }
    if (/unsupported/i.test(text)) {
      throw new CertsError(
        "ERR_CERTS_UNSUPPORTED_KEYSTORE",
        `${file} uses a PKCS12 feature or algorithm that is not supported (${text}); re-export it with openssl pkcs12 -export or keytool -importkeystore -deststoretype PKCS12.`,
        { cause: error, details: { file } },
      );
    }
    throw corrupt(file, error);
  }
}

function toCertificateBag(bag: forge.pkcs12.Bag, file: string): CertificateBag {
  // forge cannot model EC certificates and then hands back the raw ASN.1 instead.
  const asn1 =
    bag.cert === undefined || bag.cert === null ? bag.asn1 : forge.pki.certificateToAsn1(bag.cert);
  const localKeyId = localKeyIdOf(bag);
  const friendlyName = attribute(bag, "friendlyName");
  return {
    certificate: parseCertificate(derOf(asn1), file),
    localKeyId,
    friendlyName,
    // Java names its trusted-certificate entries and leaves a key's chain certificates
    // unnamed (forge drops the Oracle trusted-usage attribute, so the name is the signal).
    trusted: localKeyId === undefined && friendlyName !== undefined,
  };
}

function toPrivateKey(bag: forge.pkcs12.Bag, file: string): KeyObject {
  // forge models only RSA keys; for EC and others it keeps the PrivateKeyInfo ASN.1.
  const privateKeyInfo =
    bag.key === undefined || bag.key === null
      ? bag.asn1
      : forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key));
  try {
    return createPrivateKey({ key: derOf(privateKeyInfo), format: "der", type: "pkcs8" });
  } catch (error) {
    throw new CertsError(
      "ERR_CERTS_INVALID_KEY",
      `a private key in ${file} cannot be parsed; re-export the keystore with openssl pkcs12 -export.`,
      { cause: error, details: { file } },
    );
  }
}

function derOf(asn1: forge.asn1.Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), "binary");
}

function attribute(bag: forge.pkcs12.Bag, name: string): string | undefined {
  const values: unknown = (bag.attributes as Record<string, unknown>)[name];
  if (!Array.isArray(values) || values.length === 0) return undefined;
  return String(values[0]);
}

function localKeyIdOf(bag: forge.pkcs12.Bag): string | undefined {
  const value = attribute(bag, "localKeyId");
  return value === undefined ? undefined : forge.util.bytesToHex(value);
}

function corrupt(file: string, cause: unknown): CertsError {
  return new CertsError(
    "ERR_CERTS_CORRUPT_KEYSTORE",
    `${file} is not a readable PKCS12 keystore (truncated or malformed); copy it again in binary mode or re-export it.`,
    { cause, details: { file } },
  );
}
