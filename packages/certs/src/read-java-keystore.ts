import { createHash, timingSafeEqual, type X509Certificate } from "node:crypto";
import { ByteReader } from "./byte-reader.js";
import { CertsError } from "./certs-error.js";
import { parseCertificate } from "./certificate-facts.js";
import type {
  KeystoreCertificateEntry,
  KeystoreContents,
  KeystoreKeyEntry,
  ReadKeystoreOptions,
} from "./keystore-contents.js";
import { recoverJavaPrivateKey } from "./recover-java-private-key.js";
import { javaPasswordBytes } from "./sun-key-protector.js";

export const JKS_MAGIC = 0xfeedfeed;
export const JCEKS_MAGIC = 0xcececece;

const PRIVATE_KEY_ENTRY = 1;
const TRUSTED_CERT_ENTRY = 2;
const SECRET_KEY_ENTRY = 3;
const DIGEST_LENGTH = 20;
/** The salt Sun's JavaKeyStore mixes into the integrity digest, verbatim. */
const INTEGRITY_SALT = Buffer.from("Mighty Aphrodite", "utf8");

/**
 * Reads a JKS (0xFEEDFEED) or JCEKS (0xCECECECE) keystore, versions 1 and 2.
 * Layout: magic, version, count, then per entry a tag, alias and timestamp followed by
 * either an EncryptedPrivateKeyInfo and its certificate chain or one trusted certificate
 * (v2 names each certificate's type), and finally a SHA-1 digest over
 * `password(UTF-16BE) || "Mighty Aphrodite" || everything before it`.
 * The digest is checked first, so a wrong store password is reported as one and never
 * as garbage further down.
 */
export function readJavaKeystore(bytes: Buffer, options: ReadKeystoreOptions): KeystoreContents {
  const { file, storePassword } = options;
  if (bytes.length < 12 + DIGEST_LENGTH) throw truncated(file);
  const body = bytes.subarray(0, bytes.length - DIGEST_LENGTH);
  if (storePassword !== undefined) verifyIntegrity(bytes, storePassword, file);

  const reader = new ByteReader(body, file);
  const magic = reader.u32();
  const type = magic === JKS_MAGIC ? "jks" : magic === JCEKS_MAGIC ? "jceks" : undefined;
  const version = reader.u32();
  if (type === undefined || (version !== 1 && version !== 2)) {
    throw new CertsError(
      "ERR_CERTS_UNSUPPORTED_KEYSTORE",
      `${file} is not a JKS or JCEKS keystore of version 1 or 2; convert it with keytool -importkeystore -deststoretype PKCS12.`,
      { details: { file } },
    );
  }
  const keyEntries: KeystoreKeyEntry[] = [];
  const trustedCertificates: KeystoreCertificateEntry[] = [];
  const count = reader.u32();
  for (let index = 0; index < count; index++) {
    const tag = reader.u32();
    const alias = reader.javaUtf();
    reader.skipU64();
    if (tag === PRIVATE_KEY_ENTRY) {
      const encryptedKey = reader.lengthPrefixed();
      const chainLength = reader.u32();
      const chain: X509Certificate[] = [];
      for (let i = 0; i < chainLength; i++) chain.push(readCertificate(reader, version, file));
      keyEntries.push({
        alias,
        chain,
        decryptKey: (password) => recoverJavaPrivateKey(encryptedKey, password, { file, alias }),
      });
    } else if (tag === TRUSTED_CERT_ENTRY) {
      trustedCertificates.push({ alias, certificate: readCertificate(reader, version, file) });
    } else if (tag === SECRET_KEY_ENTRY) {
      // A secret key is a Java-serialized SealedObject with no length prefix: nothing
      // after it can be located without a Java deserializer, and it has no PEM form anyway.
      throw new CertsError(
        "ERR_CERTS_SECRET_KEY_ENTRY",
        `${file} holds a secret-key entry "${alias}", which has no PEM form; copy the private-key and certificate entries to a new keystore (keytool -importkeystore -srcalias <alias> ...) or delete the secret entry (keytool -delete -alias ${alias}) and convert that.`,
        { details: { file, alias } },
      );
    } else {
      throw new CertsError(
        "ERR_CERTS_CORRUPT_KEYSTORE",
        `${file} has an entry of unknown type ${tag} at offset ${reader.offset}; the keystore is damaged.`,
        { details: { file } },
      );
    }
  }
  if (reader.remaining !== 0) {
    throw new CertsError(
      "ERR_CERTS_CORRUPT_KEYSTORE",
      `${file} has ${reader.remaining} unexpected bytes after its ${count} entries; the keystore is damaged.`,
      { details: { file } },
    );
  }
  return { type, keyEntries, trustedCertificates, integrityChecked: storePassword !== undefined };
}

function verifyIntegrity(bytes: Buffer, storePassword: string, file: string): void {
  const body = bytes.subarray(0, bytes.length - DIGEST_LENGTH);
  const expected = bytes.subarray(bytes.length - DIGEST_LENGTH);
  const actual = createHash("sha1")
    .update(javaPasswordBytes(storePassword))
    .update(INTEGRITY_SALT)
    .update(body)
    .digest();
  if (!timingSafeEqual(actual, expected)) {
    throw new CertsError(
      "ERR_CERTS_BAD_PASSWORD",
      `the store password for ${file} is wrong, or the keystore was altered; check keyStorePassword / trustStorePassword (keytool -list -keystore ${file} shows the same failure).`,
      { details: { file } },
    );
  }
}

function readCertificate(reader: ByteReader, version: number, file: string): X509Certificate {
  if (version === 2) {
    const certificateType = reader.javaUtf();
    if (certificateType !== "X.509") {
      throw new CertsError(
        "ERR_CERTS_UNSUPPORTED_KEYSTORE",
        `${file} holds a certificate of type "${certificateType}"; only X.509 certificates are supported.`,
        { details: { file } },
      );
    }
  }
  return parseCertificate(reader.lengthPrefixed(), file);
}

function truncated(file: string): CertsError {
  return new CertsError(
    "ERR_CERTS_CORRUPT_KEYSTORE",
    `${file} is too short to be a keystore; it is truncated. Copy it again in binary mode.`,
    { details: { file } },
  );
}
