import { X509Certificate } from "node:crypto";
import { CertsError } from "./certs-error.js";
import type { KeystoreContents, KeystoreType, ReadKeystoreOptions } from "./keystore-contents.js";
import { looksLikePem } from "./parse-pem.js";
import { JCEKS_MAGIC, JKS_MAGIC, readJavaKeystore } from "./read-java-keystore.js";
import { readPkcs12 } from "./read-pkcs12.js";

const DER_SEQUENCE = 0x30;

/**
 * The keystore type by content, not by file name: operators' .keystore, .ks and .jks files
 * are as often PKCS12 as JKS since JDK 9 made PKCS12 keytool's default.
 */
export function detectKeystoreType(bytes: Buffer): KeystoreType | undefined {
  if (bytes.length >= 4) {
    const magic = bytes.readUInt32BE(0);
    if (magic === JKS_MAGIC) return "jks";
    if (magic === JCEKS_MAGIC) return "jceks";
  }
  if (bytes[0] === DER_SEQUENCE) return "pkcs12";
  return undefined;
}

/** Reads a JKS, JCEKS or PKCS12 keystore; throws only CertsError. */
export function readKeystore(bytes: Buffer, options: ReadKeystoreOptions): KeystoreContents {
  const type = detectKeystoreType(bytes);
  if (type === "pkcs12" && isDerCertificate(bytes)) {
    throw new CertsError(
      "ERR_CERTS_UNSUPPORTED_KEYSTORE",
      `${options.file} is a single DER certificate, not a keystore; convert it to PEM with openssl x509 -inform der -in ${options.file} -out cert.pem.`,
      { details: { file: options.file } },
    );
  }
  if (type === "pkcs12") return readPkcs12(bytes, options);
  if (type !== undefined) return readJavaKeystore(bytes, options);
  const hint = looksLikePem(bytes)
    ? "it is PEM text: use it directly as keyStorePath / certStorePath / trustStorePath"
    : "supported are JKS, JCEKS and PKCS12 (.p12/.pfx); convert others with keytool -importkeystore -deststoretype PKCS12";
  throw new CertsError(
    "ERR_CERTS_UNSUPPORTED_KEYSTORE",
    `${options.file} is not a keystore this package reads; ${hint}.`,
    {
      details: { file: options.file },
    },
  );
}

/** .cer/.der files are DER SEQUENCEs too; told apart here so the hint fits. */
function isDerCertificate(bytes: Buffer): boolean {
  try {
    new X509Certificate(bytes);
    return true;
  } catch {
    return false;
  }
}
