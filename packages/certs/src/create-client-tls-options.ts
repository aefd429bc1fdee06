import { checkServerIdentity, type ConnectionOptions } from "node:tls";
import { CertsError } from "./certs-error.js";
import { resolveCertsOptions, type CertsOptions } from "./certs-options.js";
import { DEFAULT_TLS_CIPHERS, enforceTlsFloor } from "./enforce-tls-floor.js";
import { loadParsedKeyMaterial } from "./load-key-material.js";
import { parseTlsProperties, type TlsPropertiesInput } from "./tls-properties-schema.js";

/**
 * Options for `tls.connect` / `new https.Agent`: TLS 1.2 or later, forward-secret AEAD
 * ciphers, the server's certificate verified (against trustStorePath, else Node's public
 * roots) and its name checked, SNI from sniServerName, and a client certificate when
 * keyStorePath is set (mTLS).
 */
export function createClientTlsOptions(
  props: TlsPropertiesInput,
  options: CertsOptions = {},
): ConnectionOptions {
  const parsed = parseTlsProperties(props);
  const resolved = resolveCertsOptions(options);
  enforceTlsFloor(parsed, resolved);
  const material = loadParsedKeyMaterial(parsed, resolved);
  if (material.key !== undefined && material.cert === undefined) {
    throw new CertsError(
      "ERR_CERTS_MISSING_SETTING",
      "certStorePath is not set: a client key (keyStorePath) needs its certificate chain to authenticate.",
      { details: { setting: "certStorePath" } },
    );
  }
  return {
    ...(material.key === undefined ? {} : { key: material.key, cert: material.cert }),
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    ...(parsed.sniServerName === undefined ? {} : { servername: parsed.sniServerName }),
    minVersion: parsed.minVersion,
    ...(parsed.maxVersion === undefined ? {} : { maxVersion: parsed.maxVersion }),
    ciphers: parsed.ciphers ?? DEFAULT_TLS_CIPHERS,
    rejectUnauthorized: parsed.rejectUnauthorized,
    // Node's own check, named explicitly so a spread of these options into another
    // object keeps the hostname verification.
    checkServerIdentity,
  };
}
