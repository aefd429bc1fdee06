export {
  CERTS_ERROR_CODES,
  CertsError,
  isCertsError,
  type CertsErrorCode,
  type CertsErrorOptions,
} from "./certs-error.js";
export type { CertsOptions, CertsWarning } from "./certs-options.js";
export type { CertificateFacts } from "./certificate-facts.js";
export {
  TLS_VERSIONS,
  parseTlsProperties,
  tlsPropertiesSchema,
  type TlsProperties,
  type TlsPropertiesInput,
  type TlsVersion,
} from "./tls-properties-schema.js";
export { ALLOW_INSECURE_TLS_ENV, DEFAULT_TLS_CIPHERS } from "./enforce-tls-floor.js";
export { loadKeyMaterial, type KeyMaterial } from "./load-key-material.js";
export { createServerTlsOptions } from "./create-server-tls-options.js";
export { createClientTlsOptions } from "./create-client-tls-options.js";
export { readKeystore, detectKeystoreType } from "./read-keystore.js";
export type {
  KeystoreCertificateEntry,
  KeystoreContents,
  KeystoreKeyEntry,
  KeystoreType,
  ReadKeystoreOptions,
} from "./keystore-contents.js";
export {
  convertKeystore,
  type ConvertKeystoreOptions,
  type ConvertKeystoreResult,
} from "./convert-keystore.js";
export { EXPIRY_WARNING_DAYS } from "./check-certificate-validity.js";
export {
  inspect,
  type InspectEntry,
  type InspectOptions,
  type InspectProblem,
  type InspectReport,
} from "./inspect.js";
