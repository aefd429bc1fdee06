import type { X509Certificate } from "node:crypto";
import { CertsError } from "./certs-error.js";
import { parseCertificate } from "./certificate-facts.js";
import { parsePem } from "./parse-pem.js";

/** Every `CERTIFICATE` block of PEM text, in file order; at least one. */
export function loadPemCertificates(text: string, file: string): X509Certificate[] {
  const blocks = parsePem(text).filter((block) => block.label === "CERTIFICATE");
  if (blocks.length === 0) {
    throw new CertsError(
      "ERR_CERTS_NOT_PEM",
      `${file} holds no PEM certificate (expected "BEGIN CERTIFICATE" blocks); convert a DER file with openssl x509 -inform der -in ... -out cert.pem.`,
      { details: { file } },
    );
  }
  return blocks.map((block) => parseCertificate(block.der, file));
}
