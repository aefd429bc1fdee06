import type { KeyObject, X509Certificate } from "node:crypto";
import { isCertsError, CertsError, type CertsErrorCode } from "./certs-error.js";
import { describeCertificate, type CertificateFacts } from "./certificate-facts.js";
import { EXPIRY_WARNING_DAYS, expiresSoon, validityProblem } from "./check-certificate-validity.js";
import type { KeystoreType } from "./keystore-contents.js";
import { loadPemCertificates } from "./load-pem-certificates.js";
import { loadPemPrivateKey } from "./load-pem-private-key.js";
import { looksLikePem, parsePem } from "./parse-pem.js";
import { readKeystore } from "./read-keystore.js";
import { readOperatorFile } from "./read-operator-file.js";

export interface InspectOptions {
  /** Keystore password; without it a JKS/JCEKS is listed unverified and keys stay encrypted. */
  storePassword?: string;
  /** Key entry password, when it differs from the store password. */
  keyPassword?: string;
  /** Passphrase of an encrypted PEM private key. */
  passphrase?: string;
  now?: Date;
}

export interface InspectEntry {
  /** The keystore alias; undefined for PEM. */
  alias: string | undefined;
  kind: "private-key" | "trusted-certificate" | "certificates";
  /** e.g. `rsa 2048`, `ec prime256v1`; undefined when the key could not be decrypted. */
  keyType: string | undefined;
  /** Undefined when there is no key, no certificate, or the key could not be decrypted. */
  keyMatchesLeaf: boolean | undefined;
  certificates: CertificateFacts[];
}

export interface InspectProblem {
  severity: "error" | "warning";
  code: CertsErrorCode;
  message: string;
}

export interface InspectReport {
  file: string;
  format: "pem" | KeystoreType;
  /** False for a JKS/JCEKS read without its store password. */
  integrityChecked: boolean;
  entries: InspectEntry[];
  problems: InspectProblem[];
}

/**
 * What a PEM file or keystore holds and what is wrong with it: certificates with their
 * expiry, keys and whether they match, and every problem found, so an operator sees them
 * all at once. Only problems that stop reading the file at all are thrown.
 */
export function inspect(path: string, options: InspectOptions = {}): InspectReport {
  const now = options.now ?? new Date();
  const bytes = readOperatorFile(path, "inspected");
  const report = looksLikePem(bytes)
    ? inspectPem(path, bytes, options)
    : inspectKeystore(path, bytes, options);
  for (const entry of report.entries) {
    for (const facts of entry.certificates)
      report.problems.push(...certificateProblems(facts, path, now));
    if (entry.keyMatchesLeaf === false) {
      report.problems.push({
        severity: "error",
        code: "ERR_CERTS_KEY_MISMATCH",
        message: `the private key${entry.alias === undefined ? "" : ` of "${entry.alias}"`} in ${path} does not belong to the leaf certificate.`,
      });
    }
  }
  return report;
}

function inspectPem(path: string, bytes: Buffer, options: InspectOptions): InspectReport {
  const text = bytes.toString("utf8");
  const problems: InspectProblem[] = [];
  const blocks = parsePem(text);
  const now = options.now ?? new Date();
  const hasKey = blocks.some((block) => block.label.endsWith("PRIVATE KEY"));
  const hasCertificates = blocks.some((block) => block.label === "CERTIFICATE");
  if (!hasKey && !hasCertificates) {
    throw new CertsError("ERR_CERTS_NOT_PEM", `${path} holds no PEM private key or certificate.`, {
      details: { file: path },
    });
  }
  const key = hasKey
    ? tryDecrypt(() => loadPemPrivateKey(text, path, options.passphrase), problems)
    : undefined;
  const certificates = hasCertificates ? loadPemCertificates(text, path) : [];
  return {
    file: path,
    format: "pem",
    integrityChecked: true,
    entries: [describeEntry({ alias: undefined, kind: "certificates", key, certificates, now })],
    problems,
  };
}

function inspectKeystore(path: string, bytes: Buffer, options: InspectOptions): InspectReport {
  const now = options.now ?? new Date();
  const contents = readKeystore(bytes, { file: path, storePassword: options.storePassword });
  const problems: InspectProblem[] = [];
  if (!contents.integrityChecked) {
    problems.push({
      severity: "warning",
      code: "ERR_CERTS_PASSPHRASE_REQUIRED",
      message:
        contents.type === "pkcs12"
          ? `${path} has no integrity MAC, so nothing vouches that it is unaltered; re-export it with a MAC.`
          : `${path} was read without its store password: its integrity is not verified and its keys were not decrypted.`,
    });
  }
  const keyPassword = options.keyPassword ?? options.storePassword;
  const entries = contents.keyEntries.map((entry) =>
    describeEntry({
      alias: entry.alias,
      kind: "private-key",
      key:
        keyPassword === undefined
          ? undefined
          : tryDecrypt(() => entry.decryptKey(keyPassword), problems),
      certificates: entry.chain,
      now,
    }),
  );
  for (const trusted of contents.trustedCertificates) {
    entries.push(
      describeEntry({
        alias: trusted.alias,
        kind: "trusted-certificate",
        key: undefined,
        certificates: [trusted.certificate],
        now,
      }),
    );
  }
  return {
    file: path,
    format: contents.type,
    integrityChecked: contents.integrityChecked,
    entries,
    problems,
  };
}

function describeEntry(entry: {
  alias: string | undefined;
  kind: InspectEntry["kind"];
  key: KeyObject | undefined;
  certificates: X509Certificate[];
  now: Date;
}): InspectEntry {
  const leaf = entry.certificates[0];
  return {
    alias: entry.alias,
    kind: entry.kind,
    keyType: entry.key === undefined ? undefined : describeKey(entry.key),
    keyMatchesLeaf:
      entry.key === undefined || leaf === undefined ? undefined : leaf.checkPrivateKey(entry.key),
    certificates: entry.certificates.map((certificate) =>
      describeCertificate(certificate, entry.now),
    ),
  };
}

/** A key that cannot be decrypted is a problem to report, not a reason to stop inspecting. */
function tryDecrypt(decrypt: () => KeyObject, problems: InspectProblem[]): KeyObject | undefined {
  try {
    return decrypt();
  } catch (error) {
    if (!isCertsError(error)) throw error;
    const severity = error.code === "ERR_CERTS_PASSPHRASE_REQUIRED" ? "warning" : "error";
    problems.push({ severity, code: error.code, message: error.message });
    return undefined;
  }
}

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  const size = details?.modulusLength ?? details?.namedCurve;
  return [key.asymmetricKeyType ?? "unknown", size].filter((part) => part !== undefined).join(" ");
}

function certificateProblems(facts: CertificateFacts, file: string, now: Date): InspectProblem[] {
  const invalid = validityProblem(facts, file, now);
  if (invalid !== undefined)
    return [{ severity: "error", code: invalid.code, message: invalid.message }];
  if (facts.daysUntilExpiry < EXPIRY_WARNING_DAYS) {
    const warning = expiresSoon(facts, file);
    return [{ severity: "warning", code: warning.code, message: warning.message }];
  }
  return [];
}
