import type { X509Certificate } from "node:crypto";

/**
 * The chain from `leaf` upwards through `pool`, leaf first: each next certificate is the
 * one that issued the previous. Stops at a self-issued certificate or when no issuer is
 * in the pool; never loops.
 */
export function buildChain(
  leaf: X509Certificate,
  pool: readonly X509Certificate[],
): X509Certificate[] {
  const chain = [leaf];
  const remaining = [...pool];
  let current = leaf;
  while (current.subject !== current.issuer) {
    const index = remaining.findIndex((candidate) => issued(candidate, current));
    if (index === -1) break;
    const [issuer] = remaining.splice(index, 1);
    if (issuer === undefined) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}

function issued(issuer: X509Certificate, subject: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
