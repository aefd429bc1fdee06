import type { KeyObject, X509Certificate } from "node:crypto";
import { CertsError } from "./certs-error.js";
import { describeCertificate, type CertificateFacts } from "./certificate-facts.js";
import { checkCertificateValidity, validityProblem } from "./check-certificate-validity.js";
import {
  resolveCertsOptions,
  type CertsOptions,
  type ResolvedCertsOptions,
} from "./certs-options.js";
import { loadPemCertificates } from "./load-pem-certificates.js";
import { loadPemPrivateKey } from "./load-pem-private-key.js";
import { looksLikePem, parsePem } from "./parse-pem.js";
import { readKeystore } from "./read-keystore.js";
import { readOperatorFile } from "./read-operator-file.js";
import { selectKeyEntry } from "./select-key-entry.js";
import {
  parseTlsProperties,
  type TlsProperties,
  type TlsPropertiesInput,
} from "./tls-properties-schema.js";

/** Key material ready for `tls.createSecureContext`, with the facts about it. */
export interface KeyMaterial {
  /** The private key as unencrypted PKCS#8 PEM (decrypted once, here, so it fails at start). */
  key: Buffer | undefined;
  /** The certificate chain as PEM, leaf first. */
  cert: Buffer | undefined;
  /** The CA bundle as PEM. */
  ca: Buffer | undefined;
  /** The certificate chain, leaf first. */
  chain: CertificateFacts[];
  caCertificates: CertificateFacts[];
  /** Whether the key belongs to the leaf; undefined unless both are present. Never false: a mismatch throws. */
  keyMatchesLeaf: boolean | undefined;
}

/**
 * Reads the files TLS properties point at: keyStorePath (PEM key, or a JKS/JCEKS/PKCS12
 * keystore converted in memory), certStorePath (PEM chain, leaf first) and trustStorePath
 * (PEM CA bundle or keystore). Throws a CertsError naming the file for every problem an
 * operator can fix; nothing is loaded lazily, so a bad file fails at start.
 */
export function loadKeyMaterial(
  props: TlsPropertiesInput,
  options: CertsOptions = {},
): KeyMaterial {
  return loadParsedKeyMaterial(parseTlsProperties(props), resolveCertsOptions(options));
}

/** loadKeyMaterial for properties already parsed and options already resolved. */
export function loadParsedKeyMaterial(
  props: TlsProperties,
  options: ResolvedCertsOptions,
): KeyMaterial {
  const identity =
    props.keyStorePath === undefined ? undefined : loadIdentity(props.keyStorePath, props);
  const certificates =
    props.certStorePath === undefined
      ? identity?.chain
      : loadPemCertificates(
          readOperatorFile(props.certStorePath, "certStorePath").toString("utf8"),
          props.certStorePath,
        );
  const certFile = props.certStorePath ?? props.keyStorePath ?? "";
  const chain = (certificates ?? []).map((certificate) =>
    describeCertificate(certificate, options.now),
  );
  for (const facts of chain) checkCertificateValidity(facts, certFile, options);

  let keyMatchesLeaf: boolean | undefined;
  const leaf = chain[0];
  if (identity !== undefined && leaf !== undefined) {
    checkKeyMatches(identity.privateKey, chain, { keyFile: props.keyStorePath ?? "", certFile });
    keyMatchesLeaf = true;
  }

  const caCertificates =
    props.trustStorePath === undefined ? [] : loadTrustStore(props.trustStorePath, props, options);
  return {
    key: identity && Buffer.from(identity.privateKey.export({ type: "pkcs8", format: "pem" })),
    cert: chain.length === 0 ? undefined : toPemBundle(chain),
    ca: caCertificates.length === 0 ? undefined : toPemBundle(caCertificates),
    chain,
    caCertificates,
    keyMatchesLeaf,
  };
}

interface Identity {
  privateKey: KeyObject;
  /** Certificates found beside the key: a keystore entry's chain, or those of a combined PEM. */
  chain: X509Certificate[] | undefined;
}

function loadIdentity(file: string, props: TlsProperties): Identity {
  const bytes = readOperatorFile(file, "keyStorePath");
  if (looksLikePem(bytes)) {
    const text = bytes.toString("utf8");
    const privateKey = loadPemPrivateKey(text, file, props.passphrase);
    const hasCertificates = parsePem(text).some((block) => block.label === "CERTIFICATE");
    return { privateKey, chain: hasCertificates ? loadPemCertificates(text, file) : undefined };
  }
  const storePassword = props.keyStorePassword;
  if (storePassword === undefined) {
    throw new CertsError(
      "ERR_CERTS_PASSPHRASE_REQUIRED",
      `${file} is a keystore; set keyStorePassword (and keyPassword if the key entry has its own).`,
      { details: { file } },
    );
  }
  const contents = readKeystore(bytes, { file, storePassword });
  const entry = selectKeyEntry(contents, file, props.keyAlias);
  return { privateKey: entry.decryptKey(props.keyPassword ?? storePassword), chain: entry.chain };
}

function checkKeyMatches(
  privateKey: KeyObject,
  chain: readonly CertificateFacts[],
  files: { keyFile: string; certFile: string },
): void {
  if (chain[0]?.x509.checkPrivateKey(privateKey) === true) return;
  const misplaced = chain.findIndex((facts) => facts.x509.checkPrivateKey(privateKey));
  const hint =
    misplaced > 0
      ? `the matching certificate is number ${misplaced + 1} in ${files.certFile}: put the leaf certificate first, then its issuers`
      : `use the certificate issued for this key, or the key that belongs to "${chain[0]?.subject ?? ""}"`;
  throw new CertsError(
    "ERR_CERTS_KEY_MISMATCH",
    `the private key in ${files.keyFile} does not belong to the leaf certificate in ${files.certFile}; ${hint}.`,
    { details: { keyFile: files.keyFile, certFile: files.certFile } },
  );
}

function loadTrustStore(
  file: string,
  props: TlsProperties,
  options: ResolvedCertsOptions,
): CertificateFacts[] {
  const bytes = readOperatorFile(file, "trustStorePath");
  let certificates: X509Certificate[];
  if (looksLikePem(bytes)) {
    certificates = loadPemCertificates(bytes.toString("utf8"), file);
  } else {
    const contents = readKeystore(bytes, { file, storePassword: props.trustStorePassword });
    if (!contents.integrityChecked) {
      options.onWarning({
        code: "ERR_CERTS_PASSPHRASE_REQUIRED",
        message: `the integrity of trust store ${file} was not verified (no trustStorePassword, or a PKCS12 without a MAC); set trustStorePassword or re-export the store.`,
        details: { file },
      });
    }
    certificates = contents.trustedCertificates.map((entry) => entry.certificate);
  }
  const facts = certificates.map((certificate) => describeCertificate(certificate, options.now));
  // A self-signed certificate is a trust anchor even without CA:TRUE: Java truststores
  // often pin a peer's self-signed certificate, and OpenSSL accepts that.
  if (!facts.some((certificate) => certificate.isCA || certificate.selfSigned)) {
    throw new CertsError(
      "ERR_CERTS_NOT_A_CA",
      `${file} holds no CA certificate (none has CA:TRUE or is self-signed); put the issuing CA's certificate in the trust store, not the peer's leaf certificate.`,
      { details: { file } },
    );
  }
  for (const certificate of facts) {
    // Bundles routinely carry an expired root beside its successor: worth a warning only.
    const problem = validityProblem(certificate, file, options.now);
    if (problem !== undefined) {
      options.onWarning({ code: problem.code, message: problem.message, details: problem.details });
    }
  }
  return facts;
}

function toPemBundle(certificates: readonly CertificateFacts[]): Buffer {
  return Buffer.from(certificates.map((facts) => facts.x509.toString()).join(""));
}
