import { X509Certificate } from "node:crypto";
import { CertsError } from "./certs-error.js";

const DAY_MS = 86_400_000;

/** What an operator wants to know about a certificate, plus the parsed object itself. */
export interface CertificateFacts {
  x509: X509Certificate;
  subject: string;
  issuer: string;
  /** e.g. `["DNS:mllp.example.org", "IP Address:127.0.0.1"]`. */
  subjectAltNames: string[];
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Whole days from `now` to not-after; negative once expired. */
  daysUntilExpiry: number;
  isCA: boolean;
  selfSigned: boolean;
  fingerprint256: string;
}

export function describeCertificate(x509: X509Certificate, now: Date): CertificateFacts {
  return {
    x509,
    subject: x509.subject.replaceAll("\n", ", "),
    issuer: x509.issuer.replaceAll("\n", ", "),
    subjectAltNames: splitSubjectAltNames(x509.subjectAltName),
    serialNumber: x509.serialNumber,
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
    daysUntilExpiry: Math.floor((x509.validToDate.getTime() - now.getTime()) / DAY_MS),
    isCA: x509.ca,
    selfSigned: isSelfSigned(x509),
    fingerprint256: x509.fingerprint256,
  };
}

/** Parses one DER certificate, naming the file when it is not one. */
export function parseCertificate(der: Buffer, file: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (error) {
    throw new CertsError(
      "ERR_CERTS_INVALID_CERTIFICATE",
      `${file} holds a certificate that cannot be parsed; re-export it as PEM (openssl x509 -in ... -out cert.pem).`,
      { cause: error, details: { file } },
    );
  }
}

function splitSubjectAltNames(value: string | undefined): string[] {
  if (value === undefined || value === "") return [];
  // Node joins entries with ", " and quotes any value that itself contains one.
  return value.split(/, (?=[A-Za-z ]+:)/);
}

function isSelfSigned(x509: X509Certificate): boolean {
  if (x509.subject !== x509.issuer) return false;
  try {
    return x509.verify(x509.publicKey);
  } catch {
    return false;
  }
}
