import { getCiphers, type ConnectionOptions, type TlsOptions } from "node:tls";
import { createClientTlsOptions, createServerTlsOptions, type CertsOptions, type TlsPropertiesInput } from "@node-mirth/certs";
import {
  assertSecureOrAllowed,
  flagProperty as flag,
  type PolicyWarningHandler,
} from "@node-mirth/core";
import { z } from "zod";
import { DicomError } from "./errors.js";

/** DICOM TLS modes, named as in Mirth's DICOM connector and the DICOM secure transport profiles. */
export const DICOM_TLS_MODES = ["notls", "bcp195", "aes", "3des"] as const;
export type DicomTlsMode = (typeof DICOM_TLS_MODES)[number];

const path = z.string().trim().min(1);

/** The TLS part of the `dicom` connector's properties, with Mirth's DICOM names. */
export const dicomTlsShape = {
  /** notls (default), bcp195 (recommended), aes, or 3des (weak; needs MIRTH_ALLOW_INSECURE_TLS=1). */
  tls: z.enum(DICOM_TLS_MODES).default("notls"),
  /** Private key: PEM, or a PKCS12/JKS/JCEKS keystore holding key and chain. */
  keyStore: path.optional(),
  /** Certificate chain PEM (leaf first), when keyStore is a PEM key. */
  certStore: path.optional(),
  keyStorePW: z.string().optional(),
  /** Password of the key entry (keystores) or passphrase of an encrypted PEM key. */
  keyPW: z.string().optional(),
  /** CA certificates (PEM, PKCS12 or JKS) that peers' certificates must chain to. */
  trustStore: path.optional(),
  trustStorePW: z.string().optional(),
  /** Listener: do not require client certificates (default false: they are required). */
  noClientAuth: flag.default(false),
  /** Accepted for Mirth compatibility; SSLv2/v3 and TLS < 1.2 are never offered either way. */
  nossl2: flag.default(true),
};

const dicomTlsSchema = z.strictObject(dicomTlsShape);
export type DicomTlsProperties = z.output<typeof dicomTlsSchema>;

/**
 * 3DES is the DICOM Basic TLS Secure Transport profile (TLS_RSA_WITH_3DES_EDE_CBC_SHA): no
 * forward secrecy and a 64-bit block cipher. OpenSSL 3 puts it below its default security
 * level, hence @SECLEVEL=0. The certs floor refuses this list unless the escape is set.
 */
const TRIPLE_DES_CIPHERS = "DES-CBC3-SHA:@SECLEVEL=0";
/** The AES profile, kept to forward-secret AES-GCM suites so it passes the certs floor. */
const AES_CIPHERS = [
  "TLS_AES_256_GCM_SHA384",
  "TLS_AES_128_GCM_SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
].join(":");

function certsProperties(props: DicomTlsProperties, role: "server" | "client"): TlsPropertiesInput {
  const base: TlsPropertiesInput = {
    enabled: true,
    minVersion: "TLSv1.2",
    ...(props.keyStore === undefined ? {} : { keyStorePath: props.keyStore }),
    ...(props.certStore === undefined ? {} : { certStorePath: props.certStore }),
    ...(props.trustStore === undefined ? {} : { trustStorePath: props.trustStore }),
    ...(props.keyStorePW === undefined ? {} : { keyStorePassword: props.keyStorePW }),
    ...(props.keyPW === undefined ? {} : { keyPassword: props.keyPW }),
    ...(props.keyPW ?? props.keyStorePW) === undefined ? {} : { passphrase: props.keyPW ?? props.keyStorePW },
    ...(props.trustStorePW === undefined ? {} : { trustStorePassword: props.trustStorePW }),
    ...(role === "server" ? { requireClientCert: !props.noClientAuth } : {}),
  };
  switch (props.tls) {
    case "aes":
      return { ...base, ciphers: AES_CIPHERS };
    case "3des":
      // TLS 1.3 has no 3DES suite; capping at 1.2 makes the handshake pick the profile's suite.
      return { ...base, maxVersion: "TLSv1.2", ciphers: TRIPLE_DES_CIPHERS };
    default:
      return base;
  }
}

/** Whether the OpenSSL Node.js links still has the DICOM basic profile's cipher (3.x builds often do not). */
export function tripleDesAvailable(): boolean {
  return getCiphers().includes("des-cbc3-sha");
}

/** The core insecure-TLS gate: refused (ERR_POLICY_INSECURE_TLS) unless the escape is set, then a loud warning. */
function refuse3desWithoutEscape(props: DicomTlsProperties, options: DicomTlsBuildOptions): void {
  if (props.tls !== "3des") return;
  assertSecureOrAllowed("DICOM tls mode 3des (TLS_RSA_WITH_3DES_EDE_CBC_SHA: no forward secrecy, 64-bit block cipher)", {
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
  });
  if (!tripleDesAvailable()) {
    throw new DicomError(
      "ERR_DICOM_INVALID_OPTIONS",
      `tls mode 3des: the OpenSSL of this Node.js (${process.versions.openssl}) has no 3DES suites, so TLS_RSA_WITH_3DES_EDE_CBC_SHA cannot be offered; use bcp195 (the peer must support BCP 195) or aes`,
    );
  }
}

export interface DicomTlsBuildOptions {
  /** Where MIRTH_ALLOW_INSECURE_TLS is read; defaults to the process environment. */
  env?: NodeJS.ProcessEnv;
  onWarning?: PolicyWarningHandler;
  certs?: CertsOptions;
}

/** Server options for a listener's TLS mode, or undefined for notls. Reads key material now. */
export function createDicomServerTls(props: DicomTlsProperties, options: DicomTlsBuildOptions = {}): TlsOptions | undefined {
  if (props.tls === "notls") return undefined;
  refuse3desWithoutEscape(props, options);
  if (props.keyStore === undefined) {
    throw new DicomError("ERR_DICOM_INVALID_OPTIONS", `tls mode ${props.tls} needs keyStore: the listener's private key and certificate`);
  }
  return createServerTlsOptions(certsProperties(props, "server"), certsOptions(options));
}

/** Client options for a sender's TLS mode, or undefined for notls. Reads key material now. */
export function createDicomClientTls(props: DicomTlsProperties, options: DicomTlsBuildOptions = {}): ConnectionOptions | undefined {
  if (props.tls === "notls") return undefined;
  refuse3desWithoutEscape(props, options);
  return createClientTlsOptions(certsProperties(props, "client"), certsOptions(options));
}

function certsOptions(options: DicomTlsBuildOptions): CertsOptions {
  return { ...(options.env === undefined ? {} : { env: options.env }), ...options.certs };
}

/** Parses the TLS properties alone (the connector schema embeds the same shape). */
export function parseDicomTlsProperties(input: unknown): DicomTlsProperties {
  return dicomTlsSchema.parse(input);
}
