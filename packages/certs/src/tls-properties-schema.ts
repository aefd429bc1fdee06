import { z } from "zod";
import { CertsError } from "./certs-error.js";

/** Protocol names as Node's `minVersion` / `maxVersion` take them. */
export const TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** Mirth exports and env-substituted configs carry booleans as "true"/"false". */
const flag = z.union([z.boolean(), z.stringbool()]);
const path = z.string().trim().min(1);
const secret = z.string();

/**
 * TLS properties as operators already write them for Mirth connectors, plus `ciphers` and
 * `maxVersion`. Connectors embed it (`tls: tlsPropertiesSchema.optional()`). Unknown keys
 * are refused: a misspelt `rejectUnauthorised` silently ignored would be a security hole.
 * Version and cipher floors are checked when options are built, not here, so a weak
 * setting gets ERR_CERTS_INSECURE_SETTING and the MIRTH_ALLOW_INSECURE_TLS escape.
 */
export const tlsPropertiesSchema = z
  .strictObject({
    enabled: flag
      .default(false)
      .describe("Read by connectors to decide whether to use TLS; the builders ignore it."),
    keyStorePath: path
      .optional()
      .describe(
        "Private key PEM (PKCS#8, PKCS#1, SEC1, encrypted), or a .jks/.jceks/.p12/.pfx keystore.",
      ),
    certStorePath: path
      .optional()
      .describe(
        "Certificate chain PEM, leaf first; optional when keyStorePath is a keystore or also holds the chain.",
      ),
    trustStorePath: path
      .optional()
      .describe("CA bundle PEM, or a keystore whose trusted-certificate entries are the CAs."),
    passphrase: secret.optional().describe("Passphrase of an encrypted PEM private key."),
    keyStorePassword: secret.optional().describe("Store password of a keystore in keyStorePath."),
    keyPassword: secret
      .optional()
      .describe("Password of the key entry, when it differs from keyStorePassword (JKS/JCEKS)."),
    keyAlias: z
      .string()
      .min(1)
      .optional()
      .describe("Which private-key entry of the keystore; needed only when there are several."),
    trustStorePassword: secret
      .optional()
      .describe("Store password of a keystore in trustStorePath."),
    rejectUnauthorized: flag.default(true).describe("Verify the peer's certificate."),
    requireClientCert: flag
      .optional()
      .describe("Server: request and require a client certificate (mTLS)."),
    requireClientAuth: flag.optional().describe("Alias of requireClientCert."),
    sniServerName: z
      .string()
      .trim()
      .min(1)
      .optional()
      .describe(
        "Client: the SNI name sent and checked. Server: the name its certificate must cover.",
      ),
    minVersion: z
      .enum(TLS_VERSIONS)
      .default("TLSv1.2")
      .describe("Lowest TLS version; the floor is TLSv1.2."),
    maxVersion: z.enum(TLS_VERSIONS).optional().describe("Highest TLS version."),
    ciphers: z
      .string()
      .trim()
      .min(1)
      .optional()
      .describe("OpenSSL cipher list; forward-secret AEAD suites only."),
  })
  .superRefine((props, context) => {
    if (
      props.requireClientCert !== undefined &&
      props.requireClientAuth !== undefined &&
      props.requireClientCert !== props.requireClientAuth
    ) {
      context.addIssue({
        code: "custom",
        path: ["requireClientAuth"],
        message:
          "requireClientAuth is an alias of requireClientCert and contradicts it; set only one",
      });
    }
    if (
      props.maxVersion !== undefined &&
      TLS_VERSIONS.indexOf(props.maxVersion) < TLS_VERSIONS.indexOf(props.minVersion)
    ) {
      context.addIssue({
        code: "custom",
        path: ["maxVersion"],
        message: "maxVersion is below minVersion",
      });
    }
  })
  .transform(({ requireClientAuth, requireClientCert, ...rest }) => ({
    ...rest,
    requireClientCert: requireClientCert ?? requireClientAuth ?? false,
  }));

/** TLS properties after parsing: defaults applied, the client-auth alias folded in. */
export type TlsProperties = z.output<typeof tlsPropertiesSchema>;
/** TLS properties as written in a configuration. */
export type TlsPropertiesInput = z.input<typeof tlsPropertiesSchema>;

/** Validates TLS properties, reporting every problem at once as ERR_CERTS_INVALID_PROPERTIES. */
export function parseTlsProperties(input: unknown): TlsProperties {
  const result = tlsPropertiesSchema.safeParse(input);
  if (result.success) return result.data;
  throw new CertsError(
    "ERR_CERTS_INVALID_PROPERTIES",
    `invalid TLS properties:\n${z.prettifyError(result.error)}`,
    {
      cause: result.error,
      details: {
        issues: result.error.issues.map((issue) => ({
          path: issue.path.join("."),
          message: issue.message,
        })),
      },
    },
  );
}
