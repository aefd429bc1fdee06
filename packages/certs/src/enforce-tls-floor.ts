import { CertsError } from "./certs-error.js";
import type { ResolvedCertsOptions } from "./certs-options.js";
import type { TlsProperties } from "./tls-properties-schema.js";

/**
 * Forward-secret AEAD suites only: ECDHE/DHE key exchange with AES-GCM or ChaCha20-Poly1305
 * for TLS 1.2, and the TLS 1.3 suites (all of which are). Order is preference order.
 */
export const DEFAULT_TLS_CIPHERS = [
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_AES_128_GCM_SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384",
  "DHE-RSA-AES128-GCM-SHA256",
].join(":");

/** The variable whose value `1` turns refusals of weak settings into loud warnings. */
export const ALLOW_INSECURE_TLS_ENV = "MIRTH_ALLOW_INSECURE_TLS";

const FORWARD_SECRET_AEAD =
  /^(?:TLS_AES_(?:128|256)_GCM_SHA(?:256|384)|TLS_CHACHA20_POLY1305_SHA256|TLS_AES_128_CCM_SHA256|(?:ECDHE-ECDSA|ECDHE-RSA|DHE-RSA)-(?:AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305))$/;
const LEGACY_VERSIONS = new Set(["TLSv1", "TLSv1.1"]);

interface Weakening {
  setting: string;
  why: string;
}

/**
 * The one place that decides the TLS floor for every socket of node-mirth. A setting below
 * it is refused with ERR_CERTS_INSECURE_SETTING, unless MIRTH_ALLOW_INSECURE_TLS=1, in which
 * case every use is reported through `onWarning` naming the setting.
 */
export function enforceTlsFloor(props: TlsProperties, options: ResolvedCertsOptions): void {
  const weakenings = findWeakenings(props);
  if (weakenings.length === 0) return;
  if (options.env[ALLOW_INSECURE_TLS_ENV] === "1") {
    for (const weakening of weakenings) {
      options.onWarning({
        code: "ERR_CERTS_INSECURE_SETTING",
        message: `INSECURE TLS SETTING IN USE: ${weakening.setting} (${weakening.why}); allowed only because ${ALLOW_INSECURE_TLS_ENV}=1. Do not run like this in production.`,
        details: { setting: weakening.setting },
      });
    }
    return;
  }
  throw new CertsError(
    "ERR_CERTS_INSECURE_SETTING",
    `TLS settings below the security floor: ${weakenings.map((w) => `${w.setting} (${w.why})`).join("; ")}. Fix them, or for a test system only set ${ALLOW_INSECURE_TLS_ENV}=1.`,
    { details: { settings: weakenings.map((weakening) => weakening.setting) } },
  );
}

function findWeakenings(props: TlsProperties): Weakening[] {
  const weakenings: Weakening[] = [];
  if (!props.rejectUnauthorized) {
    weakenings.push({
      setting: "rejectUnauthorized: false",
      why: "peer certificates are not verified",
    });
  }
  if (LEGACY_VERSIONS.has(props.minVersion)) {
    weakenings.push({
      setting: `minVersion: ${props.minVersion}`,
      why: "TLS 1.0 and 1.1 are broken; the floor is TLSv1.2",
    });
  }
  if (props.maxVersion !== undefined && LEGACY_VERSIONS.has(props.maxVersion)) {
    weakenings.push({ setting: `maxVersion: ${props.maxVersion}`, why: "caps TLS below 1.2" });
  }
  if (props.ciphers !== undefined) {
    const weak = props.ciphers
      .split(/[:, ]+/)
      .filter((cipher) => cipher !== "" && !FORWARD_SECRET_AEAD.test(cipher));
    if (weak.length > 0) {
      weakenings.push({
        setting: `ciphers: ${weak.join(":")}`,
        why: "not a forward-secret AEAD suite (ECDHE/DHE with AES-GCM or ChaCha20-Poly1305, or a TLS 1.3 suite)",
      });
    }
  }
  return weakenings;
}
