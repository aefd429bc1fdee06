import { createPrivateKey, type KeyObject } from "node:crypto";
import { CertsError } from "./certs-error.js";
import { parsePem } from "./parse-pem.js";

/**
 * The first private key in PEM text: PKCS#8 (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`),
 * PKCS#1 (`RSA PRIVATE KEY`, optionally RFC 1421-encrypted) or SEC1 (`EC PRIVATE KEY`).
 * Parsing it here, not at handshake time, is what lets a wrong passphrase or a broken
 * file fail at start with the file's name.
 */
export function loadPemPrivateKey(text: string, file: string, passphrase?: string): KeyObject {
  const block = parsePem(text).find((candidate) => candidate.label.endsWith("PRIVATE KEY"));
  if (block === undefined) {
    throw new CertsError(
      "ERR_CERTS_NOT_PEM",
      `${file} holds no PEM private key (expected a "BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY", "BEGIN EC PRIVATE KEY" or "BEGIN ENCRYPTED PRIVATE KEY" block); point keyStorePath at the key file, or at a .jks/.jceks/.p12 keystore.`,
      { details: { file } },
    );
  }
  const encrypted =
    block.label === "ENCRYPTED PRIVATE KEY" || block.pem.includes("Proc-Type: 4,ENCRYPTED");
  if (encrypted && passphrase === undefined) {
    throw new CertsError(
      "ERR_CERTS_PASSPHRASE_REQUIRED",
      `the private key in ${file} is encrypted; set passphrase (or use an unencrypted PKCS#8 key readable only by node-mirth).`,
      { details: { file } },
    );
  }
  try {
    return createPrivateKey({ key: block.pem, format: "pem", passphrase });
  } catch (error) {
    if (encrypted) {
      throw new CertsError(
        "ERR_CERTS_BAD_PASSWORD",
        `the passphrase for the private key in ${file} is wrong; check the passphrase setting.`,
        { cause: error, details: { file } },
      );
    }
    throw new CertsError(
      "ERR_CERTS_INVALID_KEY",
      `the private key in ${file} cannot be parsed; re-export it (openssl pkey -in ... -out key.pem).`,
      { cause: error, details: { file } },
    );
  }
}
