import type { KeyObject, X509Certificate } from "node:crypto";

export type KeystoreType = "jks" | "jceks" | "pkcs12";

export interface KeystoreKeyEntry {
  alias: string;
  /** Leaf first, then the intermediates the keystore holds for it. */
  chain: X509Certificate[];
  /**
   * The private key, decrypted on demand: in a JKS/JCEKS each entry may have its own
   * password, so only the entry asked for is decrypted. PKCS12 keys are already decrypted
   * with the store password, and ignore `password`.
   */
  decryptKey(password: string): KeyObject;
}

export interface KeystoreCertificateEntry {
  alias: string;
  certificate: X509Certificate;
}

/** A keystore read into memory: the form every reader returns, whatever the file type. */
export interface KeystoreContents {
  type: KeystoreType;
  keyEntries: KeystoreKeyEntry[];
  trustedCertificates: KeystoreCertificateEntry[];
  /** False for a JKS/JCEKS read without its store password, or a PKCS12 without a MAC. */
  integrityChecked: boolean;
}

export interface ReadKeystoreOptions {
  /** Named in every error message. */
  file: string;
  /** Without it a JKS/JCEKS is read unverified (keys can still be decrypted with theirs). */
  storePassword?: string;
}
