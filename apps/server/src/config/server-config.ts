import { TLS_VERSIONS } from "@node-mirth/certs";
import { egressConfigSchema } from "@node-mirth/core";
import { z } from "zod";
import { authConfigSchema } from "../auth/auth-config.js";

/** Ports and booleans may arrive as strings from environment overrides. */
const port = z
  .union([z.number(), z.string().trim().regex(/^\d+$/, "expected a port number").transform(Number)])
  .pipe(z.number().int().min(0).max(65535));
const flag = z.union([z.boolean(), z.stringbool()]);
const filePath = z.string().trim().min(1);
const host = z.string().trim().min(1);

/**
 * Cross-key checks run even when another key of the section is wrong, so one run of
 * `serve` lists every problem; they read only keys whose presence is what they check.
 */
const alwaysCheck = { when: (payload: { value: unknown }) => typeof payload.value === "object" && payload.value !== null };

const apiSchema = z
  .strictObject({
    host: host.default("127.0.0.1").describe("Bind address of the API (env HOST)."),
    port: port.default(8080).describe("Plain HTTP port (env PORT); 0 picks a free one."),
    https_port: port.default(8443).describe("HTTPS port when a certificate is set (env HTTPS_PORT)."),
    tls_cert_file: filePath.optional().describe("Certificate chain PEM, leaf first (env TLS_CERT)."),
    tls_key_file: filePath.optional().describe("Private key PEM (env TLS_KEY)."),
    tls_min_version: z.enum(TLS_VERSIONS).default("TLSv1.2").describe("Lowest TLS version; the floor is TLSv1.2."),
    tls_client_ca_file: filePath
      .optional()
      .describe("CA bundle PEM: when set, HTTPS clients must present a certificate it issued (mTLS)."),
    tls_terminated_upstream: flag
      .default(false)
      .describe("A reverse proxy in trusted_proxies terminates TLS in front of the API."),
    trusted_proxies: z
      .array(
        z
          .string()
          .trim()
          .min(1)
          .refine((value) => !value.includes("*"), "a wildcard would trust every client's X-Forwarded-Proto"),
      )
      .default([])
      .describe("Addresses or CIDRs whose X-Forwarded-* headers are believed."),
    metrics_port: port
      .optional()
      .describe("Optional loopback-only port serving /metrics without a session, for a local scraper."),
    shutdown_timeout_ms: z.int().min(0).default(10_000).describe("How long a graceful stop waits for requests in flight."),
  })
  .superRefine((api, context) => {
    if ((api.tls_cert_file === undefined) !== (api.tls_key_file === undefined)) {
      context.addIssue({
        code: "custom",
        path: [api.tls_cert_file === undefined ? "tls_cert_file" : "tls_key_file"],
        message: "tls_cert_file and tls_key_file go together (env TLS_CERT and TLS_KEY)",
      });
    }
    if (api.tls_client_ca_file !== undefined && api.tls_cert_file === undefined) {
      context.addIssue({
        code: "custom",
        path: ["tls_client_ca_file"],
        message: "client certificates (mTLS) need HTTPS: set tls_cert_file and tls_key_file too",
      });
    }
    if (api.tls_terminated_upstream === true && (!Array.isArray(api.trusted_proxies) || api.trusted_proxies.length === 0)) {
      context.addIssue({
        code: "custom",
        path: ["trusted_proxies"],
        message: "tls_terminated_upstream needs the address of the proxy that terminates TLS",
      });
    }
  }, alwaysCheck);

const inboundSchema = z.strictObject({
  bind_host: host
    .default("127.0.0.1")
    .describe("Default bind address of listener sources, as ${INBOUND_BIND_HOST} in channel properties."),
});

const storeSchema = z
  .strictObject({
    path: filePath.optional().describe("Data directory: messages.db, server.db, channels/ (env MIRTH_DATA_DIR)."),
    url: z.string().trim().min(1).optional().describe("A PostgreSQL store URL; reserved for the cluster."),
  })
  .superRefine((store, context) => {
    if (store.url !== undefined) {
      context.addIssue({
        code: "custom",
        path: ["url"],
        message: "this build has only the embedded SQLite store; remove url and use path",
      });
    }
  }, alwaysCheck);

const loggingSchema = z.strictObject({
  level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info").describe("pino log level."),
});

const clusterSchema = z
  .strictObject({
    enabled: flag.default(false).describe("Reserved for @node-mirth/cluster (env MIRTH_CLUSTER_ENABLED)."),
  })
  .superRefine((cluster, context) => {
    if (cluster.enabled === true) {
      context.addIssue({
        code: "custom",
        path: ["enabled"],
        message: "clustering is not available in this build; run a single instance",
      });
    }
  }, alwaysCheck);

/** The whole `node-mirth.toml`: every section optional, every key checked, unknown keys refused. */
export const serverConfigSchema = z.strictObject({
  api: apiSchema.default(apiSchema.parse({})),
  inbound: inboundSchema.default(inboundSchema.parse({})),
  egress: egressConfigSchema.default(egressConfigSchema.parse({})),
  store: storeSchema.default({}),
  auth: authConfigSchema.default(authConfigSchema.parse({})),
  logging: loggingSchema.default(loggingSchema.parse({})),
  cluster: clusterSchema.default({ enabled: false }),
});

export type ServerConfig = z.output<typeof serverConfigSchema>;
export type ServerConfigInput = z.input<typeof serverConfigSchema>;
