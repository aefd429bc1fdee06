import { isIP } from "node:net";
import type { TlsOptions } from "node:tls";
import { CertsError } from "./certs-error.js";
import { resolveCertsOptions, type CertsOptions } from "./certs-options.js";
import { DEFAULT_TLS_CIPHERS, enforceTlsFloor } from "./enforce-tls-floor.js";
import { loadParsedKeyMaterial } from "./load-key-material.js";
import { parseTlsProperties, type TlsPropertiesInput } from "./tls-properties-schema.js";

/**
 * Options for `tls.createServer` / `https.createServer`: TLS 1.2 or later, forward-secret
 * AEAD ciphers, and with `requireClientCert` a client certificate requested and required,
 * verified against trustStorePath. Everything is read and checked now, so a listener with
 * bad key material fails at start, not at its first handshake.
 */
export function createServerTlsOptions(
  props: TlsPropertiesInput,
  options: CertsOptions = {},
): TlsOptions {
  const parsed = parseTlsProperties(props);
  const resolved = resolveCertsOptions(options);
  enforceTlsFloor(parsed, resolved);
  if (parsed.keyStorePath === undefined) {
    throw missing("keyStorePath", "a TLS server needs its private key (PEM) or a keystore");
  }
  const material = loadParsedKeyMaterial(parsed, resolved);
  const leaf = material.chain[0];
  if (leaf === undefined || material.key === undefined) {
    throw missing("certStorePath", "a TLS server needs its certificate chain (PEM, leaf first)");
  }
  if (parsed.requireClientCert && material.ca === undefined) {
    throw missing(
      "trustStorePath",
      "requireClientCert needs the CA that issues client certificates; without it any publicly trusted certificate would pass",
    );
  }
  const name = parsed.sniServerName;
  if (name !== undefined) {
    const covered =
      isIP(name) === 0
        ? leaf.x509.checkHost(name) !== undefined
        : leaf.x509.checkIP(name) !== undefined;
    if (!covered) {
      throw new CertsError(
        "ERR_CERTS_NAME_MISMATCH",
        `the server certificate "${leaf.subject}" (${leaf.subjectAltNames.join(", ") || "no subjectAltName"}) does not cover sniServerName ${name}; clients would refuse it. Use a certificate issued for ${name}, or fix sniServerName.`,
        { details: { sniServerName: name, subject: leaf.subject } },
      );
    }
  }
  return {
    key: material.key,
    cert: material.cert,
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    minVersion: parsed.minVersion,
    ...(parsed.maxVersion === undefined ? {} : { maxVersion: parsed.maxVersion }),
    ciphers: parsed.ciphers ?? DEFAULT_TLS_CIPHERS,
    honorCipherOrder: true,
    requestCert: parsed.requireClientCert,
    rejectUnauthorized: parsed.rejectUnauthorized,
  };
}

function missing(setting: string, why: string): CertsError {
  return new CertsError("ERR_CERTS_MISSING_SETTING", `${setting} is not set: ${why}.`, {
    details: { setting },
  });
}
