import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CertsError } from "./certs-error.js";
import { describeCertificate, type CertificateFacts } from "./certificate-facts.js";
import { looksLikePem } from "./parse-pem.js";
import { readKeystore } from "./read-keystore.js";
import { readOperatorFile } from "./read-operator-file.js";
import { selectKeyEntry } from "./select-key-entry.js";
import type { KeystoreType } from "./keystore-contents.js";

export interface ConvertKeystoreOptions {
  storePassword: string;
  /** The key entry's password when it differs from the store password (JKS/JCEKS). */
  keyPassword?: string;
  /** The private-key entry to convert; needed only when the keystore has several. */
  alias?: string;
  /** Created if missing. */
  outDir: string;
}

export interface ConvertKeystoreResult {
  type: KeystoreType;
  /** The converted key entry's alias; undefined for a store of trusted certificates only. */
  alias: string | undefined;
  /** `<alias>.key`: unencrypted PKCS#8 PEM, mode 0600. */
  keyFile: string | undefined;
  /** `<alias>.crt`: the chain, leaf first. */
  certFile: string | undefined;
  /** `ca.crt`: the trusted-certificate entries; undefined when there are none. */
  caFile: string | undefined;
  chain: CertificateFacts[];
  caCertificates: CertificateFacts[];
}

/**
 * Converts a JKS, JCEKS or PKCS12 keystore to the PEM files node-mirth's TLS properties
 * take: keyStorePath = `<alias>.key`, certStorePath = `<alias>.crt`, trustStorePath = `ca.crt`.
 * A store without private-key entries (a trust store) gives only `ca.crt`.
 */
export async function convertKeystore(
  path: string,
  options: ConvertKeystoreOptions,
): Promise<ConvertKeystoreResult> {
  const bytes = readOperatorFile(path, "keystore");
  if (looksLikePem(bytes)) {
    throw new CertsError(
      "ERR_CERTS_UNSUPPORTED_KEYSTORE",
      `${path} is already PEM; use it directly as keyStorePath / certStorePath / trustStorePath.`,
      { details: { file: path } },
    );
  }
  const contents = readKeystore(bytes, { file: path, storePassword: options.storePassword });
  const now = new Date();
  const caCertificates = contents.trustedCertificates.map((entry) =>
    describeCertificate(entry.certificate, now),
  );
  const trustOnly =
    contents.keyEntries.length === 0 && options.alias === undefined && caCertificates.length > 0;
  const entry = trustOnly ? undefined : selectKeyEntry(contents, path, options.alias);
  const privateKey = entry?.decryptKey(options.keyPassword ?? options.storePassword);
  if (
    entry !== undefined &&
    privateKey !== undefined &&
    entry.chain[0]?.checkPrivateKey(privateKey) !== true
  ) {
    throw new CertsError(
      "ERR_CERTS_KEY_MISMATCH",
      `entry "${entry.alias}" in ${path} has no certificate chain matching its private key; repair it with keytool -importcert -alias ${entry.alias} (the signed certificate reply).`,
      { details: { file: path, alias: entry.alias } },
    );
  }

  await output(path, () => mkdir(options.outDir, { recursive: true, mode: 0o700 }));
  const base = entry === undefined ? undefined : safeFileName(entry.alias);
  const keyFile = base === undefined ? undefined : join(options.outDir, `${base}.key`);
  const certFile = base === undefined ? undefined : join(options.outDir, `${base}.crt`);
  const caFile = caCertificates.length === 0 ? undefined : join(options.outDir, "ca.crt");
  if (keyFile !== undefined && privateKey !== undefined) {
    await writeFresh(keyFile, String(privateKey.export({ type: "pkcs8", format: "pem" })), 0o600);
  }
  if (certFile !== undefined && entry !== undefined) {
    await writeFresh(
      certFile,
      entry.chain.map((certificate) => certificate.toString()).join(""),
      0o644,
    );
  }
  if (caFile !== undefined) {
    await writeFresh(caFile, caCertificates.map((facts) => facts.x509.toString()).join(""), 0o644);
  }
  return {
    type: contents.type,
    alias: entry?.alias,
    keyFile,
    certFile,
    caFile,
    chain: (entry?.chain ?? []).map((certificate) => describeCertificate(certificate, now)),
    caCertificates,
  };
}

/**
 * Replaces the file rather than writing into it: an existing file keeps its old mode on
 * write, and a private key must never sit world-readable even for a moment.
 */
async function writeFresh(file: string, text: string, mode: number): Promise<void> {
  await output(file, async () => {
    await rm(file, { force: true });
    await writeFile(file, text, { mode, flag: "wx" });
  });
}

async function output(file: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    throw new CertsError(
      "ERR_CERTS_OUTPUT_FAILED",
      `cannot write ${file} (${(error as NodeJS.ErrnoException).code ?? "unknown error"}); choose an output directory node-mirth may write to.`,
      { cause: error, details: { file } },
    );
  }
}

/** Aliases are free text in a keystore; a file name must not climb out of outDir. */
function safeFileName(alias: string): string {
  const cleaned = alias.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return cleaned === "" ? "key" : cleaned;
}
