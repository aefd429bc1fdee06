import type { CertificateFacts } from "../certificate-facts.js";
import type { ConvertKeystoreResult } from "../convert-keystore.js";
import type { InspectReport } from "../inspect.js";

/** Certificate facts as plain JSON: the parsed X509Certificate object left out. */
export function certificateJson(facts: CertificateFacts): Record<string, unknown> {
  const { x509: _x509, notBefore, notAfter, ...rest } = facts;
  return { ...rest, notBefore: notBefore.toISOString(), notAfter: notAfter.toISOString() };
}

export function inspectJson(report: InspectReport): Record<string, unknown> {
  return {
    ...report,
    entries: report.entries.map((entry) => ({
      ...entry,
      certificates: entry.certificates.map(certificateJson),
    })),
  };
}

export function convertJson(result: ConvertKeystoreResult): Record<string, unknown> {
  return {
    ...result,
    chain: result.chain.map(certificateJson),
    caCertificates: result.caCertificates.map(certificateJson),
  };
}

export function formatInspect(report: InspectReport): string {
  const lines = [
    `${report.file}: ${report.format.toUpperCase()}${report.format === "pem" ? "" : report.integrityChecked ? ", integrity verified" : ", integrity NOT verified"}`,
  ];
  for (const entry of report.entries) {
    const name = entry.alias === undefined ? "" : ` "${entry.alias}"`;
    const key =
      entry.keyType === undefined
        ? ""
        : ` (${entry.keyType}${entry.keyMatchesLeaf === undefined ? "" : entry.keyMatchesLeaf ? ", matches leaf" : ", DOES NOT MATCH leaf"})`;
    lines.push(`  ${entry.kind}${name}${key}`);
    entry.certificates.forEach((facts, index) => lines.push(...formatCertificate(facts, index)));
  }
  if (report.problems.length > 0) {
    lines.push("problems:");
    for (const problem of report.problems)
      lines.push(`  ${problem.severity} ${problem.code}: ${problem.message}`);
  }
  return `${lines.join("\n")}\n`;
}

export function formatConvert(result: ConvertKeystoreResult): string {
  const lines: string[] = [];
  if (result.keyFile !== undefined)
    lines.push(`wrote ${result.keyFile} (private key "${result.alias ?? ""}", PKCS#8, mode 0600)`);
  if (result.certFile !== undefined)
    lines.push(`wrote ${result.certFile} (${result.chain.length} certificate(s), leaf first)`);
  if (result.caFile !== undefined)
    lines.push(`wrote ${result.caFile} (${result.caCertificates.length} trusted certificate(s))`);
  return `${lines.join("\n")}\n`;
}

function formatCertificate(facts: CertificateFacts, index: number): string[] {
  return [
    `    [${index}] ${facts.subject}`,
    `        issuer   ${facts.issuer}`,
    ...(facts.subjectAltNames.length === 0
      ? []
      : [`        SAN      ${facts.subjectAltNames.join(", ")}`]),
    `        valid    ${facts.notBefore.toISOString()} .. ${facts.notAfter.toISOString()} (${facts.daysUntilExpiry} days left)`,
    `        sha256   ${facts.fingerprint256}${facts.isCA ? "  CA" : ""}`,
  ];
}
