import { CertsError } from "./certs-error.js";
import type { CertificateFacts } from "./certificate-facts.js";
import type { CertsWarning, ResolvedCertsOptions } from "./certs-options.js";

/** Certificates expiring within this many days are worth a warning at every start. */
export const EXPIRY_WARNING_DAYS = 30;

/**
 * Fails (or, with `validity: "warn"`, warns) when a certificate is outside its validity
 * period at `now`. A peer would refuse such a certificate anyway; saying so at start, with
 * the file and the date, beats a handshake error at 3 a.m.
 */
export function checkCertificateValidity(
  facts: CertificateFacts,
  file: string,
  options: ResolvedCertsOptions,
): void {
  const problem = validityProblem(facts, file, options.now);
  if (problem === undefined) {
    if (facts.daysUntilExpiry < EXPIRY_WARNING_DAYS) options.onWarning(expiresSoon(facts, file));
    return;
  }
  if (options.validity === "warn") {
    options.onWarning({ code: problem.code, message: problem.message, details: problem.details });
    return;
  }
  throw problem;
}

/** The validity error for `facts` at `now`, or undefined when it is valid. */
export function validityProblem(
  facts: CertificateFacts,
  file: string,
  now: Date,
): CertsError | undefined {
  const details = { file, subject: facts.subject };
  if (now.getTime() > facts.notAfter.getTime()) {
    return new CertsError(
      "ERR_CERTS_EXPIRED",
      `certificate "${facts.subject}" in ${file} expired on ${facts.notAfter.toISOString()}; install a renewed certificate.`,
      { details: { ...details, notAfter: facts.notAfter.toISOString() } },
    );
  }
  if (now.getTime() < facts.notBefore.getTime()) {
    return new CertsError(
      "ERR_CERTS_NOT_YET_VALID",
      `certificate "${facts.subject}" in ${file} is not valid before ${facts.notBefore.toISOString()}; check the system clock or wait until then.`,
      { details: { ...details, notBefore: facts.notBefore.toISOString() } },
    );
  }
  return undefined;
}

/** The warning for a certificate that is valid but expires within EXPIRY_WARNING_DAYS. */
export function expiresSoon(facts: CertificateFacts, file: string): CertsWarning {
  return {
    code: "ERR_CERTS_EXPIRED",
    message: `certificate "${facts.subject}" in ${file} expires in ${facts.daysUntilExpiry} days (${facts.notAfter.toISOString()}); renew it.`,
    details: { file, subject: facts.subject, notAfter: facts.notAfter.toISOString() },
  };
}
