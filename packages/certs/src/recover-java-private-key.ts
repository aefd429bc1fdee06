import { createPrivateKey, type KeyObject } from "node:crypto";
import forge from "node-forge";
import { CertsError } from "./certs-error.js";
import {
  JCEKS_MAX_ITERATIONS,
  recoverJceksProtectedKey,
  type JceksProtection,
} from "./jceks-key-protector.js";
import { recoverSunProtectedKey } from "./sun-key-protector.js";

const SUN_JKS_KEY_PROTECTOR = "1.3.6.1.4.1.42.2.17.1.1";
const SUN_JCEKS_PBE_MD5_3DES = "1.3.6.1.4.1.42.2.19.1";

export interface JavaKeyEntryRef {
  file: string;
  alias: string;
}

/**
 * Decrypts the EncryptedPrivateKeyInfo of a JKS/JCEKS private-key entry to a KeyObject.
 * Either protection may appear in either store type (keytool -importkeystore keeps them),
 * so the algorithm OID decides, not the file magic.
 */
export function recoverJavaPrivateKey(
  encryptedPrivateKeyInfo: Buffer,
  password: string,
  entry: JavaKeyEntryRef,
): KeyObject {
  const { algorithm, parameters, encrypted } = parseEncryptedPrivateKeyInfo(
    encryptedPrivateKeyInfo,
    entry,
  );
  let plaintext: Buffer | undefined;
  if (algorithm === SUN_JKS_KEY_PROTECTOR) {
    plaintext = recoverSunProtectedKey(encrypted, password);
  } else if (algorithm === SUN_JCEKS_PBE_MD5_3DES) {
    plaintext = recoverJceksProtectedKey(
      encrypted,
      parseJceksParameters(parameters, entry),
      password,
    );
  } else {
    throw new CertsError(
      "ERR_CERTS_UNSUPPORTED_KEYSTORE",
      `private key "${entry.alias}" in ${entry.file} is protected by algorithm ${algorithm}, which is not supported; re-export the keystore as PKCS12 with keytool -importkeystore -deststoretype PKCS12.`,
      { details: { file: entry.file, alias: entry.alias, algorithm } },
    );
  }
  const badPassword = new CertsError(
    "ERR_CERTS_BAD_PASSWORD",
    `the key password for entry "${entry.alias}" in ${entry.file} is wrong; give the key password (keyPassword / --key-password-env) if it differs from the store password.`,
    { details: { file: entry.file, alias: entry.alias } },
  );
  if (plaintext === undefined) throw badPassword;
  try {
    return createPrivateKey({ key: plaintext, format: "der", type: "pkcs8" });
  } catch (error) {
    badPassword.cause = error;
    throw badPassword;
  }
}

interface ParsedEncryptedPrivateKeyInfo {
  algorithm: string;
  parameters: forge.asn1.Asn1 | undefined;
  encrypted: Buffer;
}

function parseEncryptedPrivateKeyInfo(
  der: Buffer,
  entry: JavaKeyEntryRef,
): ParsedEncryptedPrivateKeyInfo {
  try {
    const root = forge.asn1.fromDer(forge.util.createBuffer(der.toString("binary")));
    const [algorithmIdentifier, encryptedData] = children(root);
    const [oid, parameters] = children(algorithmIdentifier);
    if (oid?.type !== forge.asn1.Type.OID || encryptedData?.type !== forge.asn1.Type.OCTETSTRING) {
      throw new Error("not an EncryptedPrivateKeyInfo");
    }
    return {
      algorithm: forge.asn1.derToOid(oid.value as string),
      parameters,
      encrypted: Buffer.from(encryptedData.value as string, "binary"),
    };
  } catch (error) {
    throw corruptEntry(entry, error);
  }
}

function parseJceksParameters(
  parameters: forge.asn1.Asn1 | undefined,
  entry: JavaKeyEntryRef,
): JceksProtection {
  const [salt, iterations] = children(parameters);
  if (salt?.type !== forge.asn1.Type.OCTETSTRING || iterations?.type !== forge.asn1.Type.INTEGER) {
    throw corruptEntry(entry, new Error("PBE parameters are not (salt, iterations)"));
  }
  const count = Number.parseInt(forge.util.bytesToHex(iterations.value as string) || "0", 16);
  const saltBytes = Buffer.from(salt.value as string, "binary");
  if (!(count >= 1 && count <= JCEKS_MAX_ITERATIONS) || saltBytes.length !== 8) {
    throw corruptEntry(entry, new Error(`implausible PBE parameters (${count} iterations)`));
  }
  return { salt: saltBytes, iterations: count };
}

function children(node: forge.asn1.Asn1 | undefined): (forge.asn1.Asn1 | undefined)[] {
  return node !== undefined && Array.isArray(node.value) ? node.value : [];
}

function corruptEntry(entry: JavaKeyEntryRef, cause: unknown): CertsError {
  return new CertsError(
    "ERR_CERTS_CORRUPT_KEYSTORE",
    `private key "${entry.alias}" in ${entry.file} is malformed; the keystore is damaged. Export it again from the system that made it.`,
    { cause, details: { file: entry.file, alias: entry.alias } },
  );
}
